package analysis

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestFlipFactsCoversEverySide fills every per-side field of a Connection
// — its two Sides, each two-element array and each capture.Direction,
// wherever it sits (in structs, behind pointers, in slices) — with values that tell the
// sides apart, flips the roles, and checks that each field swapped. A
// field added to the record without flip handling fails here.
func TestFlipFactsCoversEverySide(t *testing.T) {
	// QUIC records are built with their roles known from the Initial
	// packets and never flipped (see flipFacts); the path facts are made
	// in finalize, once the roles are final, and pathRecord applies the
	// flip itself; a failed lookup's record (DNSFailure) is made by the
	// DNS book, its roles known from the query, and never goes through a
	// tracker.
	skip := map[string]bool{"Connection.QUIC": true, "Connection.Path": true, "Connection.DNSFailure": true}

	var c Connection
	n := 0
	fill(reflect.ValueOf(&c).Elem(), "Connection", skip, &n)
	before := snapshot(reflect.ValueOf(c), "Connection", skip)
	if _, ok := before["Connection.{Client,Server}Side"]; !ok || len(before) < 8 {
		t.Fatalf("found only %d per-side fields (%v): the walk is broken", len(before), slices.Sorted(maps.Keys(before)))
	}
	tr := &tracker{c: &c}
	tr.flipFacts()
	after := snapshot(reflect.ValueOf(c), "Connection", skip)
	for path, b := range before {
		a := after[path]
		want := b
		want[0], want[1] = b[1], b[0]
		if a != want {
			t.Errorf("%s: %q after flipFacts, want %q (the sides swapped): flipFacts does not handle it", path, a, want)
		}
	}
}

var (
	directionType = reflect.TypeFor[capture.Direction]()
	sideType      = reflect.TypeFor[Side]()
)

// fill sets every settable leaf of v to a value of its own (counter n),
// allocating pointers, giving slices one element and setting every
// capture.Direction to ClientToServer, so that the two elements of any
// pair differ.
func fill(v reflect.Value, path string, skip map[string]bool, n *int) {
	if skip[path] || !v.CanSet() {
		return
	}
	*n++
	switch {
	case v.Type() == directionType:
		v.Set(reflect.ValueOf(capture.ClientToServer))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(*n%2 == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n % 100))
	case reflect.String:
		v.SetString(fmt.Sprint("s", *n))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), path+"*", skip, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), path+"[]", skip, n)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i), skip, n)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name, skip, n)
			}
		}
	}
}

// snapshot returns, for every per-side field under v, its two sides
// printed: a pair's two elements, a struct's two fields of type Side,
// or for a capture.Direction the direction itself and its reverse.
func snapshot(v reflect.Value, path string, skip map[string]bool) map[string][2]string {
	out := map[string][2]string{}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		if skip[path] {
			return
		}
		if v.Type() == directionType {
			d := v.Interface().(capture.Direction)
			out[path] = [2]string{d.String(), d.Reverse().String()}
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path+"*")
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Array:
			if v.Len() == 2 {
				out[path] = [2]string{deepString(v.Index(0)), deepString(v.Index(1))}
			}
		case reflect.Struct:
			var sides []string
			for i := range v.NumField() {
				f := v.Type().Field(i)
				switch {
				case f.Type == sideType:
					sides = append(sides, deepString(v.Field(i)))
				case f.IsExported():
					walk(v.Field(i), path+"."+f.Name)
				}
			}
			if len(sides) == 2 {
				out[path+".{Client,Server}Side"] = [2]string{sides[0], sides[1]}
			}
		}
	}
	walk(v, path)
	return out
}

// deepString prints v following pointers, so that two elements holding
// equal values print alike and different ones differently.
func deepString(v reflect.Value) string {
	var sb strings.Builder
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				sb.WriteString("nil")
				return
			}
			walk(v.Elem())
		case reflect.Struct:
			sb.WriteString("{")
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
					sb.WriteString(" ")
				}
			}
			sb.WriteString("}")
		case reflect.Slice, reflect.Array:
			sb.WriteString("[")
			for i := range v.Len() {
				walk(v.Index(i))
				sb.WriteString(" ")
			}
			sb.WriteString("]")
		default:
			if v.CanInterface() {
				fmt.Fprint(&sb, v.Interface())
			}
		}
	}
	walk(v)
	return sb.String()
}
