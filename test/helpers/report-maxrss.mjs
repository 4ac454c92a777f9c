// Preloaded with --import: prints the process's peak RSS (bytes) on stderr at exit.
process.on("exit", () => process.stderr.write(`maxrss ${process.resourceUsage().maxRSS * 1024}\n`));
