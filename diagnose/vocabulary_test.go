package diagnose

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
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
// verdict is given a category made from a string: no conversion to
// Category and no string literal returned where a Category is.
func TestCategoriesOnlyDeclared(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			returnsCategory := fn.Type.Results != nil && slices.ContainsFunc(fn.Type.Results.List, func(r *ast.Field) bool {
				id, ok := r.Type.(*ast.Ident)
				return ok && id.Name == "Category"
			})
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "Category" {
						t.Errorf("%s: a string converted to a Category in %s: declare it in verdict.go", fset.Position(n.Pos()), fn.Name.Name)
					}
				case *ast.ReturnStmt:
					for _, r := range n.Results {
						if l, ok := r.(*ast.BasicLit); ok && returnsCategory && l.Kind == token.STRING {
							t.Errorf("%s: %s returns the literal %s as a Category: declare it in verdict.go", fset.Position(n.Pos()), fn.Name.Name, l.Value)
						}
					}
				}
				return true
			})
		}
	}
}
