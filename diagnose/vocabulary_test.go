package diagnose

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/vocabtest"
)

// TestCategoriesList checks that Categories holds every Category constant
// of verdict.go exactly once.
func TestCategoriesList(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "verdict.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Category" {
			return true
		}
		for i, name := range vs.Names {
			declared++
			v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
			if err != nil || !slices.Contains(Categories, Category(v)) {
				t.Errorf("%s (%s) is not in Categories", name.Name, vs.Values[i].(*ast.BasicLit).Value)
			}
		}
		return true
	})
	if declared != len(Categories) {
		t.Errorf("%d Category constants, %d entries in Categories", declared, len(Categories))
	}
}

// TestCategoriesOnlyDeclared checks, in diagnose's non-test files, that no
// verdict is given a category made from a string.
func TestCategoriesOnlyDeclared(t *testing.T) {
	vocabtest.OnlyDeclared(t, ".", "Category")
}
