#!/usr/bin/env bash
# Compiles the firmware for real microcontrollers and prints one line per target with its
# flash and RAM use; exits non-zero on a compile or link error or a RAM budget overrun.
#   - the core alone with avr-g++ under the strictest flags (16-bit int, no STL, no exceptions)
#   - the Arduino sketch for an Arduino Mega 2560 with Debian's arduino-core-avr + arduino-mk
#   - the sketch's RAM guard: an Uno (ATmega328P, 2 KiB) must be refused with a clear #error
#   - the core linked into a minimal Cortex-M7 (Teensy 4) and Cortex-M0+ (RP2040) image
#   - the core's cycle cost on an ATmega2560 in simavr, and which rates it sustains
# Needs (Debian 12): arduino-core-avr arduino-mk gcc-arm-none-eabi libnewlib-arm-none-eabi simavr.
# ram = data + bss + the stack left free; flash = text + data.
# Run as `make -C firmware-bridge targets` or directly. Nothing here runs on hardware.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fw=$(dirname "$here")
out=$fw/build/targets
ARDUINO_DIR=${ARDUINO_DIR:-/usr/share/arduino}
# Stack left free on the Mega: the deepest call path measured with -fstack-usage
# (poll > handle > handle_actuate > reply_error > emit, ~450 bytes) plus the UART and
# timer interrupts, with margin.
AVR_STACK_RESERVE=768
AVR_RAM=8192

missing=()
command -v avr-g++ >/dev/null || missing+=(gcc-avr)
[ -f "$ARDUINO_DIR/Arduino.mk" ] || missing+=(arduino-mk)
[ -d "$ARDUINO_DIR/hardware/arduino/avr/cores/arduino" ] || missing+=(arduino-core-avr)
command -v arm-none-eabi-g++ >/dev/null || missing+=(gcc-arm-none-eabi)
[ -f /usr/lib/arm-none-eabi/newlib/libc_nano.a ] || missing+=(libnewlib-arm-none-eabi)
command -v simavr >/dev/null || missing+=(simavr)
if [ ${#missing[@]} -gt 0 ]; then
  echo "targets: missing toolchain; run: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
fail=0
core_src=("$fw"/core/*.cpp)
strict=(-Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -fno-exceptions -fno-rtti)

report() {  # name text data bss ram_used ram_budget
  local status=ok
  for v in "$2" "$3" "$4" "$5" "$6"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "targets: could not read the sizes of $1" >&2; exit 1; }
  done
  if [ "$5" -gt "$6" ]; then status="OVER RAM BUDGET"; fail=1; fi
  printf '%-26s text %7d  data %6d  bss %7d  flash %7d  ram %7d / %7d  %s\n' \
    "$1" "$2" "$3" "$4" "$(($2 + $3))" "$5" "$6" "$status"
}

# 1. The core on an 8-bit, 16-bit-int compiler with the host build's strictest flags.
mkdir -p "$out/avr-core"
for f in "${core_src[@]}"; do
  avr-g++ -mmcu=atmega2560 -std=gnu++1z -Os "${strict[@]}" -c "$f" \
    -o "$out/avr-core/$(basename "$f" .cpp).o" || fail=1
done
[ $fail -eq 0 ] || { echo "targets: the core does not compile with avr-g++" >&2; exit 1; }

# 2. The sketch for the Mega 2560, staged outside the source tree with the core in src/core.
sk=$out/mega2560/reflex_bridge
mkdir -p "$sk/src/core"
cp "$fw"/arduino/reflex_bridge/*.ino "$fw"/arduino/reflex_bridge/*.h "$sk/"
cp "$fw"/core/*.h "$fw"/core/*.cpp "$sk/src/core/"
if ! make -C "$sk" -f "$here/avr/sketch.mk" ARDUINO_DIR="$ARDUINO_DIR" OBJDIR="$out/mega2560/obj" \
    >"$out/mega2560/build.log" 2>&1; then
  tail -40 "$out/mega2560/build.log" >&2
  echo "targets: the sketch does not build for the Mega 2560 (log: $out/mega2560/build.log)" >&2
  exit 1
fi
# arduino-mk compiles with -fpermissive, which turns some errors into warnings: none may
# come from our own files.
if grep -E "(reflex_bridge\.ino|ArduinoPlatform\.h|src/core/)[^ ]*: (warning|error)" "$out/mega2560/build.log" >&2; then
  echo "targets: warnings in the sketch or core on avr-gcc" >&2
  exit 1
fi
elf=$(ls "$out"/mega2560/obj/*.elf)
read -r text data bss _ < <(avr-size -B "$elf" | tail -1)
report "avr-mega2560(sketch)" "$text" "$data" "$bss" $((data + bss + AVR_STACK_RESERVE)) "$AVR_RAM"

# 3. An Uno cannot hold the protocol's frame buffers: the sketch must say so, not overflow.
avr_core=$ARDUINO_DIR/hardware/arduino/avr
if avr-g++ -mmcu=atmega328p -std=gnu++1z -DF_CPU=16000000L -DARDUINO=10819 -DARDUINO_ARCH_AVR \
    -DARDUINO_AVR_UNO -I "$avr_core/cores/arduino" -I "$avr_core/variants/standard" -I "$sk" \
    -fsyntax-only -x c++ "$sk/reflex_bridge.ino" >"$out/uno.log" 2>&1; then
  echo "targets: the sketch compiled for an Uno (2 KiB RAM) instead of refusing it" >&2
  exit 1
fi
grep -q "needs an AVR with 8 KiB of RAM" "$out/uno.log" || { cat "$out/uno.log" >&2; exit 1; }
echo "avr-uno(sketch)            refused at compile time: needs 8 KiB RAM (expected)"

# 4. The core in a minimal Cortex-M image; the linker script's regions are the budget.
cortex() {  # name linker-script cpu-flags...
  local name=$1 ld=$2
  shift 2
  local dir=$out/$name
  mkdir -p "$dir"
  for f in "${core_src[@]}" "$here/cortex-m/size_image.cpp"; do
    arm-none-eabi-g++ "$@" -std=c++17 -Os -ffunction-sections -fdata-sections -fno-threadsafe-statics \
      "${strict[@]}" -c "$f" -o "$dir/$(basename "$f" .cpp).o" || return 1
  done
  arm-none-eabi-gcc "$@" -std=c11 -Os -Wall -Wextra -Werror -c "$here/cortex-m/startup.c" -o "$dir/startup.o" || return 1
  arm-none-eabi-gcc "$@" -nostartfiles --specs=nano.specs -Wl,--gc-sections -L "$here/cortex-m" -T "$ld" \
    -Wl,-Map="$dir/image.map" -o "$dir/image.elf" "$dir"/*.o || return 1
  local sizes text data bss stack ram_len
  sizes=$(arm-none-eabi-size -A "$dir/image.elf")
  text=$(awk '$1==".text"||$1==".ARM.exidx"{s+=$2} END{print s+0}' <<<"$sizes")
  data=$(awk '$1==".data"{s+=$2} END{print s+0}' <<<"$sizes")
  bss=$(awk '$1==".bss"{s+=$2} END{print s+0}' <<<"$sizes")
  stack=$(awk '$1==".stack"{s+=$2} END{print s+0}' <<<"$sizes")
  ram_len=$(($(awk '$1=="RAM"{print $3; exit}' "$dir/image.map")))
  report "$name(core)" "$text" "$data" "$bss" $((data + bss + stack)) "$ram_len"
}
cortex cortex-m7-teensy4 teensy4.ld -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16 ||
  { echo "targets: the core does not build or fit for Cortex-M7" >&2; exit 1; }
cortex cortex-m0plus-rp2040 rp2040.ld -mcpu=cortex-m0plus -mthumb ||
  { echo "targets: the core does not build or fit for Cortex-M0+" >&2; exit 1; }

if [ $fail -ne 0 ]; then
  echo "targets: RAM budget exceeded" >&2
  exit 1
fi

# 5. What a Mega 2560 sustains, from simulated cycle counts.
bash "$here/avr-sim/run.sh"
echo "targets: all firmware targets build and fit"
