package dev.vllmraycluster.cli;

import java.io.PrintStream;

/** Where a command writes: its output (reports, reviews) and its messages (errors, warnings). */
record Io(PrintStream out, PrintStream err) {}
