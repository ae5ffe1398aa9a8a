// Reads all of standard input and greets each name on it, one per line.
const input = require("fs").readFileSync(0, "utf8");
const names = input.split("\n").map((line) => line.trim()).filter(Boolean);

for (const name of names.length ? names : ["world"]) {
  console.log(`Hello, ${name}!`);
}
