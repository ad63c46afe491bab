/*
 * The parts of an ELF file the loader uses to start a program (elf(5)), read
 * with libelf: program interpreter, dynamic section, needed libraries, search
 * paths and the dynamic symbol table. ELF32 and ELF64, either byte order.
 * Every offset is checked against the file size: a truncated or hostile file
 * gives an error, never a crash. Private to tools/ (inspect and run).
 */
#ifndef TLSGUARD_ELF_READ_H
#define TLSGUARD_ELF_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

#include "policy.h"

#define ELF_MAX_NEEDED 256

struct elf_file {
	Elf *lib;                 /* libelf's view of map */
	const unsigned char *map; /* the whole file, read-only */
	size_t size;
	bool mapped; /* map is elf_open's: elf_close unmaps it */
	bool is64;
	bool big_endian;
	uint16_t type;      /* ET_EXEC, ET_DYN, ... */
	uint16_t machine;   /* EM_X86_64, ... */
	const char *interp; /* PT_INTERP, NUL-terminated inside map; NULL if none */
	bool dynamic;       /* has PT_DYNAMIC */
	size_t nneeded;
	const char *needed[ELF_MAX_NEEDED]; /* DT_NEEDED, in order */
	const char *rpath;                  /* DT_RPATH or NULL */
	const char *runpath;                /* DT_RUNPATH or NULL */
	bool go_runtime;                    /* a section only the Go toolchain writes */
	/* The dynamic symbol table, from the section headers or the dynamic section. */
	Elf_Data *dynsym; /* libelf reads its entries in either class and byte order */
	size_t nsyms;
	const char *dynstr;
	size_t dynstr_size;
};

/* Maps path and parses it. Errors ("not an ELF file", "truncated ELF file: ...")
 * go to err without the path; -1 then, and nothing to close. */
int elf_open(struct elf_file *elf, const char *path, struct policy_error *err);
/* The same for a file already in memory (buf, len bytes), which elf keeps
 * pointing into: buf must outlive it. */
int elf_parse_memory(struct elf_file *elf, const unsigned char *buf, size_t len,
                     struct policy_error *err);
/* Unmaps what elf_open mapped; harmless on a parsed buffer or a closed elf. */
void elf_close(struct elf_file *elf);
/* True when the file starts with the ELF magic (buf holds len bytes). */
bool elf_has_magic(const unsigned char *buf, size_t len);
/* True when the dynamic symbol table defines (not merely references) name. */
bool elf_defines(const struct elf_file *elf, const char *name);
/* True when a defined dynamic symbol starts with prefix. */
bool elf_defines_prefix(const struct elf_file *elf, const char *prefix);

#endif
