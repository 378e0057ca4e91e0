package prose

import (
	"slices"
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		noun string
		want string
	}{
		{0, "frame", "0 frames"},
		{1, "frame", "1 frame"},
		{2, "connection", "2 connections"},
		{-1, "gap", "-1 gaps"},
	} {
		if got := Count(tt.n, tt.noun); got != tt.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
	if got := Count(3, "hole"); got != "3 holes" {
		t.Errorf("Count(3, hole) = %q", got)
	}
}

func TestPlural(t *testing.T) {
	if got := Plural(1, "it was", "they were"); got != "it was" {
		t.Errorf("Plural(1) = %q", got)
	}
	if got := Plural(2, "it was", "they were"); got != "they were" {
		t.Errorf("Plural(2) = %q", got)
	}
	if got := Plural(0, "connection"); got != "connections" {
		t.Errorf("Plural(0) = %q", got)
	}
}

func TestWrap(t *testing.T) {
	for _, tt := range []struct {
		text  string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"   ", 10, []string{""}},
		{"one two three", 7, []string{"one two", "three"}},
		{"one  two\nthree", 20, []string{"one two three"}},
		{"a supercalifragilistic word", 6, []string{"a", "supercalifragilistic", "word"}},
		{"TLS 1.0–TLS 1.2 → x", 15, []string{"TLS 1.0–TLS 1.2", "→ x"}},
		{"a verylongwordindeed b", 5, []string{"a", "verylongwordindeed", "b"}},
		{"héllo wörld", 11, []string{"héllo wörld"}}, // runes, not bytes
		{"héllo wörld", 10, []string{"héllo", "wörld"}},
	} {
		if got := Wrap(tt.text, tt.width); !slices.Equal(got, tt.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
		}
	}
	// Property: no line is longer than width unless it is one word, and
	// the words are kept in order.
	text := strings.Repeat("lorem ipsum dolor sit amet consectetur ", 20)
	for width := 1; width < 60; width++ {
		lines := Wrap(text, width)
		for _, l := range lines {
			if len([]rune(l)) > width && strings.Contains(l, " ") {
				t.Fatalf("width %d: line %q too long", width, l)
			}
		}
		if strings.Join(lines, " ") != strings.Join(strings.Fields(text), " ") {
			t.Fatalf("width %d: words changed", width)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 999: "999", 1000: "1,000", 1812: "1,812", 157593: "157,593",
		1234567: "1,234,567", -999: "-999", -1000: "-1,000", -123456: "-123,456",
	} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
