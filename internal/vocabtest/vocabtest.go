// Package vocabtest checks, for tests, that the values of a typed
// vocabulary (verdict categories, error classes) are only made from its
// declared constants.
package vocabtest

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

// OnlyDeclared fails t for every place in the non-test Go files of dir
// where a value of the type named typ is made from a string instead of a
// declared constant: a conversion typ(…) outside the functions named in
// allowed, or a string literal returned by a function whose results
// include typ.
func OnlyDeclared(t testing.TB, dir, typ string, allowed ...string) {
	t.Helper()
	fset, files := parseDir(t, dir)
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			returnsTyp := fn.Type.Results != nil && slices.ContainsFunc(fn.Type.Results.List, func(r *ast.Field) bool {
				id, ok := r.Type.(*ast.Ident)
				return ok && id.Name == typ
			})
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == typ && !slices.Contains(allowed, fn.Name.Name) {
						t.Errorf("%s: a string converted to %s in %s: use a declared constant", fset.Position(n.Pos()), typ, fn.Name.Name)
					}
				case *ast.ReturnStmt:
					for _, r := range n.Results {
						if l, ok := r.(*ast.BasicLit); ok && returnsTyp && l.Kind == token.STRING {
							t.Errorf("%s: %s returns the literal %s as a %s: use a declared constant", fset.Position(n.Pos()), fn.Name.Name, l.Value, typ)
						}
					}
				}
				return true
			})
		}
	}
}

// parseDir parses the non-test Go files of dir.
func parseDir(t testing.TB, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// Constants returns the string constants of the type named typ that the
// non-test Go files of dir declare, each with where it is declared; it
// fails t for a constant of that type that is not a string literal.
func Constants(t testing.TB, dir, typ string) map[string]token.Position {
	t.Helper()
	fset, files := parseDir(t, dir)
	out := map[string]token.Position{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				return true
			}
			for i, name := range vs.Names {
				var v string
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if ok {
					v, ok = unquote(lit)
				}
				if !ok {
					t.Errorf("%s: %s is not a string constant", fset.Position(name.Pos()), name.Name)
					continue
				}
				out[v] = fset.Position(name.Pos())
			}
			return true
		})
	}
	return out
}

func unquote(lit *ast.BasicLit) (string, bool) {
	v, err := strconv.Unquote(lit.Value)
	return v, err == nil && lit.Kind == token.STRING
}
