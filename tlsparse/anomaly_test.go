package tlsparse

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAnomaliesList checks that Anomalies holds every Anomaly constant of
// anomaly.go exactly once, and that each ID is snake_case.
func TestAnomaliesList(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "anomaly.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Anomaly" {
				continue
			}
			for i, name := range vs.Names {
				declared++
				v, _ := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
				if !slices.Contains(Anomalies, Anomaly(v)) {
					t.Errorf("%s (%q) is not in Anomalies", name.Name, v)
				}
			}
		}
	}
	if declared != len(Anomalies) {
		t.Errorf("%d Anomaly constants, %d entries in Anomalies (duplicates?)", declared, len(Anomalies))
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for _, a := range Anomalies {
		if !snake.MatchString(string(a)) {
			t.Errorf("%q is not snake_case", a)
		}
	}
	for _, a := range []Anomaly{MalformedExtension(ExtServerName), TrailingBytesInExtension(ExtKeyShare), AnomalyHeartbeat} {
		if !KnownAnomaly(a) {
			t.Errorf("KnownAnomaly(%q) = false", a)
		}
	}
	for _, a := range []Anomaly{"", "heartbeats", MalformedExtension(0x4444)} {
		if KnownAnomaly(a) {
			t.Errorf("KnownAnomaly(%q) = true", a)
		}
	}
}

// TestAnomalyIDsOnlyInAnomalyGo checks, in every non-test Go file of the
// module, that anomalies are emitted and matched by their constants: no
// string literal spells a declared ID, no literal is passed where an
// anomaly is recorded, and nothing converts a string to an Anomaly, except
// in anomaly.go. A new anomaly is declared there, or this test fails.
func TestAnomalyIDsOnlyInAnomalyGo(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if filepath.ToSlash(path) == "../tlsparse/anomaly.go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		// A name returned by another vocabulary's String method may
		// coincide with an ID ("heartbeat" is also a content type and an
		// extension, and a JSON key of the report): literals returned by
		// functions that do not return an Anomaly, and the keys report's
		// JSON encoder writes (w.key), are not anomalies.
		var returnsAnomaly bool
		returned := map[*ast.BasicLit]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				returnsAnomaly = n.Type.Results != nil && slices.ContainsFunc(n.Type.Results.List, func(r *ast.Field) bool { return isAnomalyType(r.Type) })
			case *ast.ReturnStmt:
				if returnsAnomaly && hasStringLit(n.Results) {
					t.Errorf("%s: a literal returned as an anomaly: declare the ID in tlsparse/anomaly.go", fset.Position(n.Pos()))
				}
				for _, r := range n.Results {
					if l, ok := r.(*ast.BasicLit); ok && !returnsAnomaly {
						returned[l] = true
					}
				}
			case *ast.BasicLit:
				if v, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && !returned[n] && KnownAnomaly(Anomaly(v)) {
					t.Errorf("%s: the anomaly %q spelled as a literal: use its constant in tlsparse/anomaly.go", fset.Position(n.Pos()), v)
				}
			case *ast.CallExpr:
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					if fn.Name == "Anomaly" {
						t.Errorf("%s: a string converted to an Anomaly: declare the ID in tlsparse/anomaly.go", fset.Position(n.Pos()))
					}
					if fn.Name == "append" && len(n.Args) > 1 && isAnomaliesField(n.Args[0]) && hasStringLit(n.Args[1:]) {
						t.Errorf("%s: a literal appended to Anomalies: declare the ID in tlsparse/anomaly.go", fset.Position(n.Pos()))
					}
				case *ast.SelectorExpr:
					if fn.Sel.Name == "key" {
						for _, a := range n.Args {
							if l, ok := a.(*ast.BasicLit); ok {
								returned[l] = true
							}
						}
					}
					if fn.Sel.Name == "Anomaly" {
						t.Errorf("%s: a string converted to an Anomaly: declare the ID in tlsparse/anomaly.go", fset.Position(n.Pos()))
					}
					if (fn.Sel.Name == "anomaly" || fn.Sel.Name == "add") && hasStringLit(n.Args) {
						t.Errorf("%s: a literal recorded as an anomaly: declare the ID in tlsparse/anomaly.go", fset.Position(n.Pos()))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isAnomalyType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "Anomaly"
	case *ast.SelectorExpr:
		return e.Sel.Name == "Anomaly"
	}
	return false
}

func isAnomaliesField(e ast.Expr) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && s.Sel.Name == "Anomalies"
}

func hasStringLit(args []ast.Expr) bool {
	for _, a := range args {
		if l, ok := a.(*ast.BasicLit); ok && l.Kind == token.STRING {
			return true
		}
	}
	return false
}
