#pragma once
#include <stdio.h>

namespace rfx {
// Prints the canonical protocol test frames as JSON lines {"name","hex"} (README.md).
void print_vectors(FILE* out);
}  // namespace rfx
