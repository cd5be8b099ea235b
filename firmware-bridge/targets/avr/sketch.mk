# arduino-mk project file for the AVR size check (targets/check.sh): builds the staged copy of
# arduino/reflex_bridge (sketch + src/core) with Debian's arduino-core-avr. Not for uploads:
# see firmware-bridge/README.md for flashing a board.
ARDUINO_DIR ?= /usr/share/arduino
BOARD_TAG ?= mega
BOARD_SUB ?= atmega2560
ARDUINO_LIBS :=
# arduino-mk compiles only the sketch folder's top level; the core lives in src/core.
LOCAL_CPP_SRCS := $(wildcard src/core/*.cpp)
# The core is C++17 in style but needs no C++17 library: avr-gcc 5.4 (Debian 12) takes gnu++1z.
CXXFLAGS_STD := -std=gnu++1z -fno-threadsafe-statics -flto
# Debian 12's arduino-core-avr WString.cpp uses DECIMAL_DIG, which avr-gcc 5.4's <float.h>
# defines only for C99/C11, not C++: give C++ the compiler's own value.
CXXFLAGS += -DDECIMAL_DIG=__DECIMAL_DIG__ -Wextra
include $(ARDUINO_DIR)/Arduino.mk
