/*
 * Bounds-checked ELF reading (elf(5), System V gABI). The file is mapped
 * read-only; each structure is located with elf_span(), which refuses any range
 * that does not lie wholly inside the file, so hostile offsets and counts end in
 * an error instead of a wild read.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_read.h"

/* Field offset, width and record size for either class, from <elf.h>'s types. */
#define ELF_OFF(e, T, f)    ((e)->is64 ? offsetof(Elf64_##T, f) : offsetof(Elf32_##T, f))
#define ELF_LEN(e, T, f)    ((e)->is64 ? sizeof(((Elf64_##T *)0)->f) : sizeof(((Elf32_##T *)0)->f))
#define ELF_GET(e, p, T, f) elf_get((e), (p) + ELF_OFF(e, T, f), ELF_LEN(e, T, f))
#define ELF_SIZE(e, T)      ((e)->is64 ? sizeof(Elf64_##T) : sizeof(Elf32_##T))

/* More would only be a hostile file making us loop. */
#define ELF_MAX_SYMS    (1u << 24)
#define ELF_MAX_HEADERS 65535

bool elf_has_magic(const unsigned char *buf, size_t len)
{
	return len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

static uint64_t elf_get(const struct elf_file *elf, const unsigned char *p, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		size_t k = elf->big_endian ? i : len - 1 - i;
		v = (v << 8) | p[k];
	}
	return v;
}

/* The len bytes at off, or NULL when any of them lies outside the file. */
static const unsigned char *elf_span(const struct elf_file *elf, uint64_t off, uint64_t len)
{
	if (off > elf->size || len > elf->size - off) {
		return NULL;
	}
	return elf->map + off;
}

/* count records of size entsize at off; NULL unless they all fit. */
static const unsigned char *elf_table(const struct elf_file *elf, uint64_t off, uint64_t count,
                                      uint64_t entsize)
{
	if (entsize != 0 && count > UINT64_MAX / entsize) {
		return NULL;
	}
	return elf_span(elf, off, count * entsize);
}

/* A NUL-terminated string at index idx of a string table, or NULL. */
static const char *elf_string(const char *table, size_t size, uint64_t idx)
{
	if (table == NULL || idx >= size || memchr(table + idx, '\0', size - idx) == NULL) {
		return NULL;
	}
	return table + idx;
}

static const unsigned char *elf_phdr(const struct elf_file *elf, size_t i)
{
	const unsigned char *eh = elf->map;
	uint64_t off = ELF_GET(elf, eh, Ehdr, e_phoff);
	uint64_t entsize = ELF_GET(elf, eh, Ehdr, e_phentsize);

	return elf_span(elf, off + i * entsize, ELF_SIZE(elf, Phdr));
}

/* Virtual address to file offset through the PT_LOAD segments (the dynamic
 * section's pointers are addresses, not offsets). -1 when no segment holds it. */
static int elf_addr_to_off(const struct elf_file *elf, uint64_t addr, uint64_t *off)
{
	size_t i, n = ELF_GET(elf, elf->map, Ehdr, e_phnum);

	for (i = 0; i < n; i++) {
		const unsigned char *ph = elf_phdr(elf, i);
		if (ph == NULL || ELF_GET(elf, ph, Phdr, p_type) != PT_LOAD) {
			continue;
		}
		uint64_t vaddr = ELF_GET(elf, ph, Phdr, p_vaddr);
		uint64_t filesz = ELF_GET(elf, ph, Phdr, p_filesz);
		if (addr >= vaddr && addr - vaddr < filesz) {
			*off = addr - vaddr + ELF_GET(elf, ph, Phdr, p_offset);
			return 0;
		}
	}
	return -1;
}

static int elf_parse_ident(struct elf_file *elf, struct policy_error *err)
{
	const unsigned char *id = elf->map;

	if (!elf_has_magic(id, elf->size)) {
		policy_set_error(err, "not an ELF file");
		return -1;
	}
	if (elf->size < EI_NIDENT) {
		policy_set_error(err, "truncated ELF file: no identification");
		return -1;
	}
	switch (id[EI_CLASS]) {
	case ELFCLASS32:
		elf->is64 = false;
		break;
	case ELFCLASS64:
		elf->is64 = true;
		break;
	default:
		policy_set_error(err, "ELF file of unknown class %u", id[EI_CLASS]);
		return -1;
	}
	switch (id[EI_DATA]) {
	case ELFDATA2LSB:
		elf->big_endian = false;
		break;
	case ELFDATA2MSB:
		elf->big_endian = true;
		break;
	default:
		policy_set_error(err, "ELF file of unknown byte order %u", id[EI_DATA]);
		return -1;
	}
	if (elf->size < ELF_SIZE(elf, Ehdr)) {
		policy_set_error(err, "truncated ELF file: the header is cut short");
		return -1;
	}
	elf->type = ELF_GET(elf, elf->map, Ehdr, e_type);
	elf->machine = ELF_GET(elf, elf->map, Ehdr, e_machine);
	return 0;
}

static int elf_parse_phdrs(struct elf_file *elf, uint64_t *dyn_off, uint64_t *dyn_size,
                           struct policy_error *err)
{
	const unsigned char *eh = elf->map;
	uint64_t n = ELF_GET(elf, eh, Ehdr, e_phnum);
	uint64_t entsize = ELF_GET(elf, eh, Ehdr, e_phentsize);
	size_t i;

	if (n == 0) {
		return 0;
	}
	if (entsize < ELF_SIZE(elf, Phdr) ||
	    elf_table(elf, ELF_GET(elf, eh, Ehdr, e_phoff), n, entsize) == NULL) {
		policy_set_error(err, "truncated ELF file: program headers outside the file");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *ph = elf_phdr(elf, i);
		uint64_t off = ELF_GET(elf, ph, Phdr, p_offset);
		uint64_t filesz = ELF_GET(elf, ph, Phdr, p_filesz);

		switch (ELF_GET(elf, ph, Phdr, p_type)) {
		case PT_INTERP:
			elf->interp = (const char *)elf_span(elf, off, filesz);
			if (elf->interp == NULL || filesz == 0 ||
			    memchr(elf->interp, '\0', filesz) == NULL) {
				policy_set_error(err, "truncated ELF file: bad PT_INTERP");
				return -1;
			}
			break;
		case PT_DYNAMIC:
			if (elf_span(elf, off, filesz) == NULL) {
				policy_set_error(err,
				                 "truncated ELF file: PT_DYNAMIC outside the file");
				return -1;
			}
			elf->dynamic = true;
			*dyn_off = off;
			*dyn_size = filesz;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* The dynamic section's string-table offsets, resolved once DT_STRTAB is known. */
struct elf_dyn_refs {
	uint64_t needed[ELF_MAX_NEEDED];
	size_t nneeded;
	bool have_rpath, have_runpath;
	uint64_t rpath, runpath;
	uint64_t strtab, strsz, symtab, syment, hash, gnu_hash;
};

static void elf_dyn_entry(struct elf_dyn_refs *r, uint64_t tag, uint64_t val)
{
	switch (tag) {
	case DT_NEEDED:
		if (r->nneeded < ELF_MAX_NEEDED) {
			r->needed[r->nneeded++] = val;
		}
		break;
	case DT_RPATH:
		r->have_rpath = true;
		r->rpath = val;
		break;
	case DT_RUNPATH:
		r->have_runpath = true;
		r->runpath = val;
		break;
	case DT_STRTAB:
		r->strtab = val;
		break;
	case DT_STRSZ:
		r->strsz = val;
		break;
	case DT_SYMTAB:
		r->symtab = val;
		break;
	case DT_SYMENT:
		r->syment = val;
		break;
	case DT_HASH:
		r->hash = val;
		break;
	case DT_GNU_HASH:
		r->gnu_hash = val;
		break;
	default:
		break;
	}
}

/* Number of symbols from a DT_GNU_HASH table: one past the last chain entry of
 * the highest bucket (the chain's low bit marks its end). 0 when unreadable. */
static size_t elf_gnu_hash_count(const struct elf_file *elf, uint64_t off)
{
	const unsigned char *h = elf_span(elf, off, 16);
	uint64_t nbuckets, symoffset, bloom, word = elf->is64 ? 8 : 4;
	uint64_t i, max = 0;
	const unsigned char *buckets, *chain;

	if (h == NULL) {
		return 0;
	}
	nbuckets = elf_get(elf, h, 4);
	symoffset = elf_get(elf, h + 4, 4);
	bloom = elf_get(elf, h + 8, 4);
	buckets = elf_table(elf, off + 16 + bloom * word, nbuckets, 4);
	if (buckets == NULL || nbuckets > ELF_MAX_SYMS) {
		return 0;
	}
	for (i = 0; i < nbuckets; i++) {
		uint64_t b = elf_get(elf, buckets + 4 * i, 4);
		max = b > max ? b : max;
	}
	if (max < symoffset) {
		return symoffset;
	}
	for (i = max; i < ELF_MAX_SYMS; i++) {
		chain =
		    elf_span(elf, off + 16 + bloom * word + nbuckets * 4 + (i - symoffset) * 4, 4);
		if (chain == NULL) {
			return 0;
		}
		if (elf_get(elf, chain, 4) & 1) {
			return i + 1;
		}
	}
	return 0;
}

/* The dynamic symbol table through DT_SYMTAB, sized by DT_HASH's nchain or by
 * DT_GNU_HASH. Used when the section headers were stripped. */
static void elf_dynsym_from_dynamic(struct elf_file *elf, const struct elf_dyn_refs *r)
{
	uint64_t off, hoff, n = 0;
	const unsigned char *h;

	if (r->symtab == 0 || elf_addr_to_off(elf, r->symtab, &off) != 0) {
		return;
	}
	if (r->hash != 0 && elf_addr_to_off(elf, r->hash, &hoff) == 0 &&
	    (h = elf_span(elf, hoff, 8)) != NULL) {
		n = elf_get(elf, h + 4, 4);
	} else if (r->gnu_hash != 0 && elf_addr_to_off(elf, r->gnu_hash, &hoff) == 0) {
		n = elf_gnu_hash_count(elf, hoff);
	}
	elf->syment = r->syment != 0 ? r->syment : ELF_SIZE(elf, Sym);
	if (elf->syment < ELF_SIZE(elf, Sym) || n > ELF_MAX_SYMS ||
	    (elf->dynsym = elf_table(elf, off, n, elf->syment)) == NULL) {
		elf->dynsym = NULL;
		return;
	}
	elf->nsyms = n;
}

static int elf_parse_dynamic(struct elf_file *elf, uint64_t off, uint64_t size,
                             struct policy_error *err)
{
	struct elf_dyn_refs r;
	size_t entsize = ELF_SIZE(elf, Dyn), i;
	uint64_t stroff;

	memset(&r, 0, sizeof(r));
	for (i = 0; (i + 1) * entsize <= size; i++) {
		const unsigned char *d = elf->map + off + i * entsize;
		uint64_t tag = ELF_GET(elf, d, Dyn, d_tag);
		if (tag == DT_NULL) {
			break;
		}
		elf_dyn_entry(&r, tag, ELF_GET(elf, d, Dyn, d_un.d_val));
	}
	if (r.strtab == 0 || elf_addr_to_off(elf, r.strtab, &stroff) != 0 || stroff > elf->size) {
		if (r.nneeded == 0 && !r.have_rpath && !r.have_runpath) {
			return 0;
		}
		policy_set_error(err, "truncated ELF file: DT_STRTAB outside the file");
		return -1;
	}
	elf->dynstr = (const char *)elf->map + stroff;
	elf->dynstr_size = r.strsz < elf->size - stroff ? r.strsz : elf->size - stroff;
	for (i = 0; i < r.nneeded; i++) {
		const char *name = elf_string(elf->dynstr, elf->dynstr_size, r.needed[i]);
		if (name == NULL) {
			policy_set_error(err, "truncated ELF file: DT_NEEDED outside DT_STRTAB");
			return -1;
		}
		elf->needed[elf->nneeded++] = name;
	}
	elf->rpath = r.have_rpath ? elf_string(elf->dynstr, elf->dynstr_size, r.rpath) : NULL;
	elf->runpath = r.have_runpath ? elf_string(elf->dynstr, elf->dynstr_size, r.runpath) : NULL;
	elf_dynsym_from_dynamic(elf, &r);
	return 0;
}

static const unsigned char *elf_shdr(const struct elf_file *elf, uint64_t i)
{
	const unsigned char *eh = elf->map;
	uint64_t off = ELF_GET(elf, eh, Ehdr, e_shoff);
	uint64_t entsize = ELF_GET(elf, eh, Ehdr, e_shentsize);

	if (entsize < ELF_SIZE(elf, Shdr) || i > ELF_MAX_HEADERS) {
		return NULL;
	}
	return elf_span(elf, off + i * entsize, ELF_SIZE(elf, Shdr));
}

/* The section header table, when present, gives the exact dynamic symbol table
 * and the section names that reveal a Go program. Missing or broken section
 * headers are not an error: the loader never reads them. */
static void elf_parse_shdrs(struct elf_file *elf)
{
	const unsigned char *eh = elf->map, *names, *sh;
	uint64_t n = ELF_GET(elf, eh, Ehdr, e_shnum), i, names_off, names_size;

	names = elf_shdr(elf, ELF_GET(elf, eh, Ehdr, e_shstrndx));
	if (n == 0 || n > ELF_MAX_HEADERS || names == NULL) {
		return;
	}
	names_off = ELF_GET(elf, names, Shdr, sh_offset);
	names_size = ELF_GET(elf, names, Shdr, sh_size);
	if (elf_span(elf, names_off, names_size) == NULL) {
		return;
	}
	for (i = 0; i < n && (sh = elf_shdr(elf, i)) != NULL; i++) {
		const char *name = elf_string((const char *)elf->map + names_off, names_size,
		                              ELF_GET(elf, sh, Shdr, sh_name));
		if (name != NULL &&
		    (strcmp(name, ".go.buildinfo") == 0 || strcmp(name, ".note.go.buildid") == 0)) {
			elf->go_runtime = true;
		}
		if (ELF_GET(elf, sh, Shdr, sh_type) != SHT_DYNSYM) {
			continue;
		}
		const unsigned char *str = elf_shdr(elf, ELF_GET(elf, sh, Shdr, sh_link));
		uint64_t off = ELF_GET(elf, sh, Shdr, sh_offset),
		         size = ELF_GET(elf, sh, Shdr, sh_size);
		uint64_t entsize = ELF_GET(elf, sh, Shdr, sh_entsize);
		if (str == NULL || entsize < ELF_SIZE(elf, Sym) ||
		    elf_span(elf, off, size) == NULL ||
		    elf_span(elf, ELF_GET(elf, str, Shdr, sh_offset),
		             ELF_GET(elf, str, Shdr, sh_size)) == NULL) {
			continue;
		}
		elf->dynsym = elf->map + off;
		elf->syment = entsize;
		elf->nsyms = size / entsize;
		elf->dynstr = (const char *)elf->map + ELF_GET(elf, str, Shdr, sh_offset);
		elf->dynstr_size = ELF_GET(elf, str, Shdr, sh_size);
	}
}

int elf_open(struct elf_file *elf, const char *path, struct policy_error *err)
{
	struct stat st;
	void *map;
	int fd;

	memset(elf, 0, sizeof(*elf));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		policy_set_error(err, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		policy_set_error(err, "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size < SELFMAG) {
		policy_set_error(err, "not an ELF file");
		close(fd);
		return -1;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		policy_set_error(err, "cannot map the file: %s", strerror(errno));
		return -1;
	}
	if (elf_parse_memory(elf, map, (size_t)st.st_size, err) != 0) {
		munmap(map, (size_t)st.st_size);
		return -1;
	}
	elf->mapped = true;
	return 0;
}

int elf_parse_memory(struct elf_file *elf, const unsigned char *buf, size_t len,
                     struct policy_error *err)
{
	uint64_t dyn_off = 0, dyn_size = 0;

	memset(elf, 0, sizeof(*elf));
	if (len < SELFMAG) {
		policy_set_error(err, "not an ELF file");
		return -1;
	}
	elf->map = buf;
	elf->size = len;
	if (elf_parse_ident(elf, err) != 0 || elf_parse_phdrs(elf, &dyn_off, &dyn_size, err) != 0) {
		goto err;
	}
	if (elf->dynamic && elf_parse_dynamic(elf, dyn_off, dyn_size, err) != 0) {
		goto err;
	}
	elf_parse_shdrs(elf);
	return 0;
err:
	memset(elf, 0, sizeof(*elf));
	return -1;
}

void elf_close(struct elf_file *elf)
{
	if (elf->mapped) {
		munmap((void *)elf->map, elf->size);
	}
	memset(elf, 0, sizeof(*elf));
}

/* Calls match on every defined symbol's name until it returns true. */
static bool elf_any_defined(const struct elf_file *elf, bool (*match)(const char *, const char *),
                            const char *arg)
{
	size_t i;

	for (i = 0; i < elf->nsyms; i++) {
		const unsigned char *s = elf->dynsym + i * elf->syment;
		const char *name;
		if (ELF_GET(elf, s, Sym, st_shndx) == SHN_UNDEF) {
			continue;
		}
		name = elf_string(elf->dynstr, elf->dynstr_size, ELF_GET(elf, s, Sym, st_name));
		if (name != NULL && match(name, arg)) {
			return true;
		}
	}
	return false;
}

static bool elf_name_is(const char *name, const char *want)
{
	return strcmp(name, want) == 0;
}

static bool elf_name_starts(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

bool elf_defines(const struct elf_file *elf, const char *name)
{
	return elf_any_defined(elf, elf_name_is, name);
}

bool elf_defines_prefix(const struct elf_file *elf, const char *prefix)
{
	return elf_any_defined(elf, elf_name_starts, prefix);
}
