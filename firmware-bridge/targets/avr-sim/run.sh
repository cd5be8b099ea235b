#!/usr/bin/env bash
# Measures the core's cost on an ATmega2560 in simavr (Debian package `simavr`, a
# cycle-accurate AVR simulator) and says which rate/channel settings a Mega 2560 sustains.
# Measured (simulated cycles): the core's work per SAMPLES block with real ADC conversions
# (cost.cpp). Computed: per-second load from that, and the UART share at 1 Mbaud.
# Estimated, not measured: the Arduino UART driver at ~150 cycles per byte sent
# (HardwareSerial::write into its ring plus the data-register-empty interrupt).
# A setting "sustains" when the CPU stays under 75 % and the UART under 75 %.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fw=$(dirname "$(dirname "$here")")
out=$fw/build/targets/avr-sim
command -v simavr >/dev/null || { echo "avr-sim: run apt-get install -y --no-install-recommends simavr" >&2; exit 1; }
mkdir -p "$out"
avr-g++ -mmcu=atmega2560 -DF_CPU=16000000L -std=gnu++1z -Os -fno-exceptions -fno-rtti -fno-threadsafe-statics \
  -Wall -Wextra -Werror -o "$out/cost.elf" "$here/cost.cpp" "$fw"/core/*.cpp
# simavr prints the UART with colour codes; it exits when the program sleeps with interrupts off.
timeout 120 simavr -m atmega2560 -f 16000000 "$out/cost.elf" 2>&1 | sed 's/\x1b\[[0-9;]*m//g; s/\.$//' >"$out/cost.txt"
grep -q '^done' "$out/cost.txt" || { cat "$out/cost.txt" >&2; echo "avr-sim: the simulation did not finish" >&2; exit 1; }
awk -v f_cpu=16000000 -v uart_bps=100000 -v uart_cyc=150 '
  /^adc_conversion_cycles/ { printf "ATmega2560 @ 16 MHz in simavr: one ADC conversion %d cycles (%.0f us)\n", $2, $2 / 16 }
  /^idle_poll_cycles/ { printf "poll() with nothing due: %d cycles\n", $2 }
  /^rate/ {
    if (!hdr++) printf "%6s %3s %5s %10s %8s %9s %7s %8s  %s\n", "rate", "ch", "block", "core_cyc/s", "core_cpu", "wire_B/s", "uart", "cpu+uart", "verdict"
    rate = $2; ch = $4; n = $6; cyc = $8; bytes = $12
    blocks = rate / n; core = cyc * blocks; wire = bytes * blocks
    cpu = 100 * core / f_cpu; uart = 100 * wire / uart_bps; tot = 100 * (core + wire * uart_cyc) / f_cpu
    printf "%6d %3d %5d %10d %7.0f%% %9d %6.0f%% %7.0f%%  %s\n", rate, ch, n, core, cpu, wire, uart, tot, (tot <= 75 && uart <= 75) ? "sustains" : "no"
  }' "$out/cost.txt"
