// Reads all of standard input and greets each name on it, one per line.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	var names []string
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		if name := strings.TrimSpace(scanner.Text()); name != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		names = []string{"world"}
	}
	for _, name := range names {
		fmt.Printf("Hello, %s!\n", name)
	}
}
