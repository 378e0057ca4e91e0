package diagnose

import (
	"flag"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/vocabtest"
)

var update = flag.Bool("update", false, "rewrite the README's table of verdict categories from the registry")

// TestCategoriesList checks that every Category constant of the package
// is registered in categories exactly once, and that every registered
// category is declared completely.
func TestCategoriesList(t *testing.T) {
	declared := vocabtest.Constants(t, ".", "Category")
	for c, where := range declared {
		if !slices.Contains(Categories, Category(c)) {
			t.Errorf("%s: %s is not registered in categories (category.go)", where, c)
		}
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := map[Category]bool{}
	for _, s := range categories {
		c := s.name
		switch {
		case seen[c]:
			t.Errorf("%s is registered twice", c)
		case declared[string(c)] == token.Position{}:
			t.Errorf("%s is registered but not declared as a Category constant", c)
		case !snake.MatchString(string(c)):
			t.Errorf("%s: not a snake_case name", c)
		case s.meaning == "" || s.serverFix == "":
			t.Errorf("%s: say what it means and what to change on the server (\"—\" for nothing), for the README", c)
		case strings.Contains(s.meaning+s.serverFix, "|") || strings.Contains(s.meaning+s.serverFix, "\n"):
			t.Errorf("%s: its README texts hold a '|' or a line break, which breaks the table", c)
		case (len(s.clientClasses) > 0 || s.certificate) == (s.unprobed != ""):
			t.Errorf("%s: name the probe's client errors that agree with it (clientClasses, or certificate), or say why none does (unprobed), not both", c)
		}
		seen[c] = true
	}
}

// TestCategoriesOnlyDeclared checks, in diagnose's non-test files, that no
// verdict is given a category made from a string.
func TestCategoriesOnlyDeclared(t *testing.T) {
	vocabtest.OnlyDeclared(t, ".", "Category")
}

// readmeCategoriesHeader starts the README's table of verdict categories.
const readmeCategoriesHeader = "| category | meaning | what to change on the server |\n|---|---|---|\n"

// categoriesTable is the README's table of verdict categories, made from
// the registry.
func categoriesTable() string {
	var b strings.Builder
	b.WriteString(readmeCategoriesHeader)
	for _, s := range categories {
		b.WriteString(categoryRow(s) + "\n")
	}
	return b.String()
}

// categoryRow is a category's row in the README's table.
func categoryRow(s *categorySpec) string {
	return "| `" + string(s.name) + "` | " + s.meaning + " | " + s.serverFix + " |"
}

// TestREADMECategories checks the README's table of verdict categories
// against the registry, row for row and in its order; -update rewrites it.
func TestREADMECategories(t *testing.T) {
	const path = "../README.md"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, readmeCategoriesHeader)
	if start < 0 {
		t.Fatalf("%s has no table of verdict categories (%q)", path, readmeCategoriesHeader)
	}
	end := start + len(readmeCategoriesHeader)
	for end < len(text) && text[end] == '|' {
		end += strings.IndexByte(text[end:], '\n') + 1
	}
	got, want := text[start:end], categoriesTable()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(text[:start]+want+text[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	rows := strings.Split(strings.TrimSuffix(got, "\n"), "\n")[2:]
	for i, s := range categories {
		if i >= len(rows) || rows[i] != categoryRow(s) {
			t.Errorf("%s: the table of verdict categories differs from the registry at %s (go test ./diagnose -run TestREADMECategories -update rewrites it)", path, s.name)
			return
		}
	}
	t.Errorf("%s: the table of verdict categories has %d rows, the registry %d categories", path, len(rows), len(categories))
}
