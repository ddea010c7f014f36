#pragma once
// Every configuration key of an experiment file, block by block, with its default and meaning, as Markdown:
// what `motornet-train --list-options` prints and what the README's "Configuration keys" section holds (a test
// compares the two). It is made from the option tables themselves (core/option_table.h), so it cannot drift
// from what the reader accepts.

#include <string>

namespace motornet {

std::string configuration_keys_markdown();

}  // namespace motornet
