// Reads all of standard input and greets each name on it, one per line.
import { readFileSync } from "fs";

function greet(name: string): string {
  return `Hello, ${name}!`;
}

const names: string[] = readFileSync(0, "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter(Boolean);

for (const name of names.length ? names : ["world"]) {
  console.log(greet(name));
}
