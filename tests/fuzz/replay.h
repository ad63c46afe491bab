/*
 * What a fuzz target offers its plain replay program (replay_main.c) besides
 * LLVMFuzzerTestOneInput.
 */
#ifndef TLSGUARD_FUZZ_REPLAY_H
#define TLSGUARD_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry points (the second is optional). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Optional: runs forged cases that the target's property checkers must catch
 * (a checker that stopped checking would let the target pass everything);
 * prints each miss on stderr and returns how many there were. */
int fuzz_self_test(void);

#endif
