/*
 * Base64 for pin_sha256 (RFC 4648 section 4, standard alphabet, padded). Written
 * here because the policy engine must not link libcrypto (the shim loads it).
 */
#include <string.h>

#include "policy_internal.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* 32 bytes are 43 significant characters and one '=': the last character
 * carries 4 bits of data, and RFC 4648 3.5 says the 2 spare bits are zero. A
 * strict decoder keeps one spelling per pin, so a pin is never "almost" right. */
int policy_pin_decode(const char *text, uint8_t out[POLICY_PIN_LEN])
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t i, n = 0;

	if (strlen(text) != 44 || text[43] != '=')
		return -1;
	for (i = 0; i < 43; i++) {
		v = b64_value(text[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (n != POLICY_PIN_LEN || acc != 0)
		return -1;
	return 0;
}

void policy_pin_encode(const uint8_t pin[POLICY_PIN_LEN], char out[64])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, n = 0;

	for (i = 0; i < POLICY_PIN_LEN; i++) {
		acc = (acc << 8) | pin[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = b64_alphabet[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[n++] = b64_alphabet[(acc << (6 - bits)) & 0x3f];
	while (n % 4 != 0)
		out[n++] = '=';
	out[n] = '\0';
}
