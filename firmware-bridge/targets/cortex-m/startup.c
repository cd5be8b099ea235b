/* Minimal Cortex-M startup for the size-check image (targets/check.sh): a vector table,
 * .data copy, .bss clear and static constructors, as a real board's startup does, so the
 * image's RAM and flash figures are what the core costs. Not a boot loader for any board. */
#include <stdint.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
int main(void);

void Reset_Handler(void);
void Default_Handler(void);

void Default_Handler(void) {
  for (;;) {
  }
}

void Reset_Handler(void) {
  uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
  main();
  Default_Handler();
}

/* Initial stack pointer, reset, then NMI and HardFault: enough for the image to be complete. */
__attribute__((section(".vectors"), used)) static void* const vectors[4] = {
    &__stack_top, (void*)Reset_Handler, (void*)Default_Handler, (void*)Default_Handler};
