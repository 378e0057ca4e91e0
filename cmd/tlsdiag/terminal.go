package main

import (
	"errors"
	"io"
	"os"
	"strconv"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// defaultWidth is the width of a terminal whose size is unknown.
const defaultWidth = 80

// errUnknownColor: --color is none of colorModes.
var errUnknownColor = errors.New("unknown --color")

// colorModes are the values of --color.
var colorModes = []string{"auto", "always", "never"}

// screenFlags are the flags that shape the table format for a person:
// colour, and every summary table.
type screenFlags struct {
	color string
	stats bool
}

func addScreenFlags(fs *pflag.FlagSet) *screenFlags {
	f := new(screenFlags)
	fs.StringVar(&f.color, "color", "auto", "colour the verdicts: `when` auto (on a terminal, unless NO_COLOR is set), always or never")
	fs.BoolVar(&f.stats, "stats", false, "write every summary table, also those that say nothing the lines do not")
	return f
}

// screen is how the report is shown on out: the width to fit (0: no
// limit) and whether to colour.
type screen struct {
	width int
	color bool
}

// screenFor decides the width and colour of output written to out. The
// width is the terminal's (asked with TIOCGWINSZ), else COLUMNS, else 80
// on a terminal of unknown size; output that goes to a pipe or a file
// with no COLUMNS set is not cut. Colour is on for a terminal unless
// NO_COLOR is set (https://no-color.org) or TERM is dumb; --color always
// or never decides instead.
func (f *screenFlags) screenFor(out io.Writer, getenv func(string) string) (screen, error) {
	term := isTerminalWriter(out)
	var s screen
	if term {
		s.width = terminalWidth(out.(*os.File))
	}
	if s.width == 0 {
		if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
			s.width = n
		} else if term {
			s.width = defaultWidth
		}
	}
	switch f.color {
	case "auto":
		s.color = term && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
	case "always":
		s.color = true
	case "never":
	default:
		return s, errUnknownColor
	}
	return s, nil
}

// terminalWidth is the number of columns of the terminal f, 0 when it
// does not say.
func terminalWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
