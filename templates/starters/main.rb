# Reads all of standard input and greets each name on it, one per line.
names = $stdin.each_line.map(&:strip).reject(&:empty?)
names = ["world"] if names.empty?

names.each do |name|
  puts "Hello, #{name}!"
end
