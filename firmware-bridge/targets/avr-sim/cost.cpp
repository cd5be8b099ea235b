// Cycle cost of the core on an ATmega2560, run in simavr (cycle-accurate; targets/avr-sim/run.sh).
// Not a firmware: the core is driven with a stepped clock so each poll() does exactly one
// block's work, and Timer1 counts the CPU cycles it took. The ADC conversions are real
// register-level ones (as Arduino's analogRead does them), which simavr times like the chip:
// 13 ADC clocks at 16 MHz / 128. Transmission is a volatile byte sink: the cost of the
// Arduino UART driver per byte is not in these figures (the README estimates it).
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <stdio.h>

#include "../../core/device.h"
#include "../../core/scheduler.h"

namespace {

int uart_put(char c, FILE*) {
  loop_until_bit_is_set(UCSR0A, UDRE0);
  UDR0 = c;
  return 0;
}
FILE uart_out;

volatile uint32_t overflows;
uint32_t cycles() {
  uint8_t s = SREG;
  cli();
  uint32_t hi = overflows;
  uint16_t lo = TCNT1;
  if ((TIFR1 & _BV(TOV1)) && lo < 0x8000) hi++;
  SREG = s;
  return (hi << 16) | lo;
}

volatile uint8_t sink;

class CostPlatform : public rfx::Platform {
 public:
  uint64_t now = 1000000;
  uint32_t bytes = 0;
  uint64_t now_us() override { return now; }
  size_t rx_read(uint8_t*, size_t) override { return 0; }
  size_t tx_write(const uint8_t* buf, size_t len) override {
    for (size_t i = 0; i < len; i++) sink = buf[i];
    bytes += uint32_t(len);
    return len;
  }
  bool link_up() override { return true; }
  void adc_sample(uint32_t, uint64_t, int32_t* out, uint8_t channels) override {
    for (uint8_t c = 0; c < channels; c++) {
      ADMUX = uint8_t(_BV(REFS0) | (c & 7));
      ADCSRB = uint8_t(c & 8 ? _BV(MUX5) : 0);
      ADCSRA |= _BV(ADSC);
      while (ADCSRA & _BV(ADSC)) {
      }
      out[c] = (int32_t(ADC) - 512) * 16384;
    }
  }
  bool actuator_supports(uint8_t, uint8_t) override { return false; }
  void actuator_set(uint8_t, uint8_t, int32_t, uint64_t) override {}
  void actuator_safe(uint64_t) override {}
  uint32_t random_u32() override { return 1; }
};

CostPlatform plat;
uint8_t txbuf[2304];
rfx::TxRecord txrec[32];

rfx::DeviceInfo info() {
  rfx::DeviceInfo i;
  i.max_channels = 16;
  i.name = "cost";
  return i;
}
rfx::Device dev(plat, info(), txbuf, sizeof txbuf, txrec, 32);

// One configuration (block 0 = automatic) for `blocks` blocks; prints the mean and worst
// cycles per block (ADC included) and the wire bytes per block.
void measure(uint32_t rate, uint8_t channels, uint8_t block, uint16_t blocks) {
  const char* why = "";
  dev.stop();
  if (dev.configure(rate, channels, block, &why) != 0) {
    printf("config %lu %u refused: %s\n", (unsigned long)rate, channels, why);
    return;
  }
  dev.poll();  // anything pending from the previous run goes out first
  dev.start();
  const uint8_t n = dev.block_samples();
  const uint64_t t0 = plat.now;
  uint32_t total = 0, worst = 0;
  const uint32_t bytes0 = plat.bytes;
  for (uint16_t b = 1; b <= blocks; b++) {
    plat.now = rfx::sample_time_us(t0, uint64_t(b) * n - 1, rate);
    uint32_t c0 = cycles();
    dev.poll();
    uint32_t dc = cycles() - c0;
    total += dc;
    if (dc > worst) worst = dc;
  }
  printf("rate %lu channels %u block %u cycles_per_block %lu worst %lu bytes_per_block %lu\n", (unsigned long)rate,
         channels, n, (unsigned long)(total / blocks), (unsigned long)worst,
         (unsigned long)((plat.bytes - bytes0) / blocks));
}

}  // namespace

ISR(TIMER1_OVF_vect) { overflows++; }

int main() {
  fdev_setup_stream(&uart_out, uart_put, nullptr, _FDEV_SETUP_WRITE);
  stdout = &uart_out;
  TCCR1A = 0;
  TCCR1B = _BV(CS10);  // clk/1: TCNT1 counts CPU cycles
  TIMSK1 = _BV(TOIE1);
  ADCSRA = uint8_t(_BV(ADEN) | 7);  // prescaler 128, as the Arduino core sets it
  sei();
  // One ADC conversion alone, and one idle poll (nothing due), as reference points.
  {
    int32_t v[1];
    plat.adc_sample(0, 0, v, 1);  // the first conversion after enabling takes 25 ADC clocks
    uint32_t c0 = cycles();
    plat.adc_sample(0, 0, v, 1);
    printf("adc_conversion_cycles %lu\n", (unsigned long)(cycles() - c0));
  }
  dev.begin();
  dev.poll();
  {
    uint32_t c0 = cycles();
    dev.poll();
    printf("idle_poll_cycles %lu\n", (unsigned long)(cycles() - c0));
  }
  static const uint32_t rates[] = {250, 500, 1000, 2000, 4000};
  static const uint8_t chans[] = {1, 4, 8, 16};
  for (uint8_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
    for (uint8_t c = 0; c < sizeof chans; c++) measure(rates[r], chans[c], 0, 64);
  }
  // Bigger explicit blocks (board file `blockSamples`) spread the per-frame cost.
  measure(500, 8, 10, 32);
  measure(1000, 1, 10, 32);
  measure(1000, 2, 10, 32);
  measure(1000, 4, 10, 32);
  measure(2000, 1, 20, 32);
  printf("done\n");
  cli();
  sleep_cpu();
}

// avr-libc has no C++ runtime (the Arduino core supplies these): never called here.
void operator delete(void*) noexcept {
  for (;;) {
  }
}
void operator delete(void*, size_t) noexcept {
  for (;;) {
  }
}
extern "C" void __cxa_pure_virtual() {
  for (;;) {
  }
}
