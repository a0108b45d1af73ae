// logqlcheck checks LogQL expressions with Loki's own parser.
//
// Usage: logqlcheck EXPR...   or   logqlcheck < file (one expression a line;
// blank lines and lines starting with # are skipped). Exits 1 naming every
// expression that does not parse, 0 when all parse.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/grafana/loki/v3/pkg/logql/syntax"
)

func main() {
	exprs := os.Args[1:]
	if len(exprs) == 0 {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			exprs = append(exprs, line)
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(os.Stderr, "logqlcheck: reading stdin: %v\n", err)
			os.Exit(2)
		}
	}
	bad := 0
	for _, e := range exprs {
		if _, err := syntax.ParseExpr(e); err != nil {
			fmt.Fprintf(os.Stderr, "invalid LogQL %q: %v\n", e, err)
			bad++
		}
	}
	if bad > 0 {
		os.Exit(1)
	}
	fmt.Printf("%d LogQL expression(s) ok\n", len(exprs))
}
