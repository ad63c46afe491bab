/*
 * ELF reading for inspect and run (elf(5), System V gABI) on libelf: libelf
 * reads the headers, the program and section header tables, the dynamic
 * section and the symbols in either class and byte order, and refuses tables
 * that do not lie inside the file. What is left here is what the loader does
 * and libelf does not: following DT_STRTAB, DT_SYMTAB and the hash tables from
 * virtual addresses to file offsets (the section headers may be stripped),
 * and checking that every string lies inside the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_read.h"

/* More would only be a hostile file making us loop. */
#define ELF_MAX_SYMS    (1u << 24)
#define ELF_MAX_HEADERS 65535

bool elf_has_magic(const unsigned char *buf, size_t len)
{
	return len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

/* The len bytes at off, or NULL when any of them lies outside the file. */
static const unsigned char *elf_span(const struct elf_file *elf, uint64_t off, uint64_t len)
{
	if (off > elf->size || len > elf->size - off) {
		return NULL;
	}
	return elf->map + off;
}

/* A NUL-terminated string at index idx of a string table, or NULL. */
static const char *elf_string(const char *table, size_t size, uint64_t idx)
{
	if (table == NULL || idx >= size || memchr(table + idx, '\0', size - idx) == NULL) {
		return NULL;
	}
	return table + idx;
}

/* count 32-bit words at off, in this machine's byte order (libelf converts),
 * or NULL unless they all lie inside the file. */
static const uint32_t *elf_words(const struct elf_file *elf, uint64_t off, uint64_t count)
{
	Elf_Data *d;

	if (count > ELF_MAX_SYMS * 2ull || elf_span(elf, off, count * 4) == NULL) {
		return NULL;
	}
	d = elf_getdata_rawchunk(elf->lib, (int64_t)off, count * 4, ELF_T_WORD);
	return d != NULL && d->d_size == count * 4 ? d->d_buf : NULL;
}

/* Virtual address to file offset through the PT_LOAD segments (the dynamic
 * section's pointers are addresses, not offsets). -1 when no segment holds it. */
static int elf_addr_to_off(const struct elf_file *elf, uint64_t addr, uint64_t *off)
{
	size_t i, n = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf->lib, &n) != 0) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (gelf_getphdr(elf->lib, (int)i, &ph) == NULL || ph.p_type != PT_LOAD) {
			continue;
		}
		if (addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz) {
			*off = addr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -1;
}

/* Class and byte order from e_ident, with this reader's messages for what
 * libelf would refuse without saying why. */
static int elf_parse_ident(struct elf_file *elf, struct policy_error *err)
{
	const unsigned char *id = elf->map;
	GElf_Ehdr eh;

	if (!elf_has_magic(id, elf->size)) {
		policy_set_error(err, "not an ELF file");
		return -1;
	}
	if (elf->size < EI_NIDENT) {
		policy_set_error(err, "truncated ELF file: no identification");
		return -1;
	}
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64) {
		policy_set_error(err, "ELF file of unknown class %u", id[EI_CLASS]);
		return -1;
	}
	if (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB) {
		policy_set_error(err, "ELF file of unknown byte order %u", id[EI_DATA]);
		return -1;
	}
	elf->is64 = id[EI_CLASS] == ELFCLASS64;
	elf->big_endian = id[EI_DATA] == ELFDATA2MSB;
	elf->lib = elf_memory((char *)elf->map, elf->size);
	if (elf->lib == NULL || elf_kind(elf->lib) != ELF_K_ELF ||
	    gelf_getehdr(elf->lib, &eh) == NULL) {
		policy_set_error(err, "truncated ELF file: the header is cut short");
		return -1;
	}
	elf->type = eh.e_type;
	elf->machine = eh.e_machine;
	return 0;
}

static int elf_parse_phdrs(struct elf_file *elf, uint64_t *dyn_off, uint64_t *dyn_size,
                           struct policy_error *err)
{
	size_t i, n = 0;
	GElf_Ehdr eh;
	GElf_Phdr ph;

	/* libelf counts only the program headers that fit in the buffer: the
	 * table the header announces (e_phnum, or the count PN_XNUM points to)
	 * must lie wholly inside the file, or the file is truncated. */
	if (elf_getphdrnum(elf->lib, &n) != 0 || gelf_getehdr(elf->lib, &eh) == NULL) {
		policy_set_error(err, "truncated ELF file: program headers outside the file");
		return -1;
	}
	if (eh.e_phnum != PN_XNUM) {
		n = eh.e_phnum;
	}
	if (n > 0 && elf_span(elf, eh.e_phoff, (uint64_t)n * eh.e_phentsize) == NULL) {
		policy_set_error(err, "truncated ELF file: program headers outside the file");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (gelf_getphdr(elf->lib, (int)i, &ph) == NULL) {
			policy_set_error(err,
			                 "truncated ELF file: program headers outside the file");
			return -1;
		}
		switch (ph.p_type) {
		case PT_INTERP:
			elf->interp = (const char *)elf_span(elf, ph.p_offset, ph.p_filesz);
			if (elf->interp == NULL || ph.p_filesz == 0 ||
			    memchr(elf->interp, '\0', ph.p_filesz) == NULL) {
				policy_set_error(err, "truncated ELF file: bad PT_INTERP");
				return -1;
			}
			break;
		case PT_DYNAMIC:
			if (elf_span(elf, ph.p_offset, ph.p_filesz) == NULL) {
				policy_set_error(err,
				                 "truncated ELF file: PT_DYNAMIC outside the file");
				return -1;
			}
			elf->dynamic = true;
			*dyn_off = ph.p_offset;
			*dyn_size = ph.p_filesz;
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
	uint64_t strtab, strsz, symtab, hash, gnu_hash;
};

static void elf_dyn_entry(struct elf_dyn_refs *r, const GElf_Dyn *dyn)
{
	uint64_t val = dyn->d_un.d_val;

	switch (dyn->d_tag) {
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
	const uint32_t *h = elf_words(elf, off, 4), *buckets, *chain;
	uint64_t nbuckets, symoffset, chains, word = elf->is64 ? 8 : 4;
	uint64_t i, max = 0;

	if (h == NULL) {
		return 0;
	}
	nbuckets = h[0];
	symoffset = h[1];
	chains = off + 16 + (uint64_t)h[2] * word + nbuckets * 4;
	buckets = elf_words(elf, chains - nbuckets * 4, nbuckets);
	if (buckets == NULL) {
		return 0;
	}
	for (i = 0; i < nbuckets; i++) {
		max = buckets[i] > max ? buckets[i] : max;
	}
	if (max < symoffset) {
		return symoffset;
	}
	for (i = max; i < ELF_MAX_SYMS; i++) {
		chain = elf_words(elf, chains + (i - symoffset) * 4, 1);
		if (chain == NULL) {
			return 0;
		}
		if (*chain & 1) {
			return i + 1;
		}
	}
	return 0;
}

/* The dynamic symbol table through DT_SYMTAB, sized by DT_HASH's nchain or by
 * DT_GNU_HASH. Used when the section headers were stripped. */
static void elf_dynsym_from_dynamic(struct elf_file *elf, const struct elf_dyn_refs *r)
{
	size_t symsize = gelf_fsize(elf->lib, ELF_T_SYM, 1, EV_CURRENT);
	uint64_t off, hoff, n = 0;
	const uint32_t *h;

	if (r->symtab == 0 || elf_addr_to_off(elf, r->symtab, &off) != 0) {
		return;
	}
	if (r->hash != 0 && elf_addr_to_off(elf, r->hash, &hoff) == 0 &&
	    (h = elf_words(elf, hoff, 2)) != NULL) {
		n = h[1];
	} else if (r->gnu_hash != 0 && elf_addr_to_off(elf, r->gnu_hash, &hoff) == 0) {
		n = elf_gnu_hash_count(elf, hoff);
	}
	if (n == 0 || n > ELF_MAX_SYMS || symsize == 0 || elf_span(elf, off, n * symsize) == NULL) {
		return;
	}
	elf->dynsym = elf_getdata_rawchunk(elf->lib, (int64_t)off, n * symsize, ELF_T_SYM);
	elf->nsyms = elf->dynsym != NULL ? n : 0;
}

static int elf_parse_dynamic(struct elf_file *elf, uint64_t off, uint64_t size,
                             struct policy_error *err)
{
	size_t dynsize = gelf_fsize(elf->lib, ELF_T_DYN, 1, EV_CURRENT), i, n;
	struct elf_dyn_refs r;
	Elf_Data *data;
	GElf_Dyn dyn;
	uint64_t stroff;

	memset(&r, 0, sizeof(r));
	n = dynsize != 0 ? size / dynsize : 0;
	data = n > 0 ? elf_getdata_rawchunk(elf->lib, (int64_t)off, n * dynsize, ELF_T_DYN) : NULL;
	for (i = 0; data != NULL && i < n && gelf_getdyn(data, (int)i, &dyn) != NULL; i++) {
		if (dyn.d_tag == DT_NULL) {
			break;
		}
		elf_dyn_entry(&r, &dyn);
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

/* The section header table, when present, gives the exact dynamic symbol table
 * and the section names that reveal a Go program. Missing or broken section
 * headers are not an error: the loader never reads them. */
static void elf_parse_shdrs(struct elf_file *elf)
{
	size_t shstrndx, n = 0;
	Elf_Scn *scn = NULL, *strscn;
	Elf_Data *syms, *strs;
	GElf_Shdr sh;
	const char *name;

	if (elf_getshdrnum(elf->lib, &n) != 0 || n == 0 || n > ELF_MAX_HEADERS ||
	    elf_getshdrstrndx(elf->lib, &shstrndx) != 0) {
		return;
	}
	while ((scn = elf_nextscn(elf->lib, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) == NULL) {
			break;
		}
		name = elf_strptr(elf->lib, shstrndx, sh.sh_name);
		if (name != NULL &&
		    (strcmp(name, ".go.buildinfo") == 0 || strcmp(name, ".note.go.buildid") == 0)) {
			elf->go_runtime = true;
		}
		if (sh.sh_type != SHT_DYNSYM ||
		    sh.sh_entsize != gelf_fsize(elf->lib, ELF_T_SYM, 1, EV_CURRENT) ||
		    (strscn = elf_getscn(elf->lib, sh.sh_link)) == NULL ||
		    (syms = elf_getdata(scn, NULL)) == NULL ||
		    (strs = elf_getdata(strscn, NULL)) == NULL || strs->d_buf == NULL) {
			continue;
		}
		elf->dynsym = syms;
		elf->nsyms = sh.sh_size / sh.sh_entsize;
		elf->dynstr = strs->d_buf;
		elf->dynstr_size = strs->d_size;
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
	if (elf_version(EV_CURRENT) == EV_NONE) {
		policy_set_error(err, "libelf: %s", elf_errmsg(-1));
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
	elf_end(elf->lib);
	memset(elf, 0, sizeof(*elf));
	return -1;
}

void elf_close(struct elf_file *elf)
{
	elf_end(elf->lib);
	if (elf->mapped) {
		munmap((void *)elf->map, elf->size);
	}
	memset(elf, 0, sizeof(*elf));
}

/* Calls match on every defined symbol's name until it returns true. */
static bool elf_any_defined(const struct elf_file *elf, bool (*match)(const char *, const char *),
                            const char *arg)
{
	const char *name;
	GElf_Sym sym;
	size_t i;

	for (i = 0; elf->dynsym != NULL && i < elf->nsyms; i++) {
		if (gelf_getsym(elf->dynsym, (int)i, &sym) == NULL) {
			break;
		}
		if (sym.st_shndx == SHN_UNDEF) {
			continue;
		}
		name = elf_string(elf->dynstr, elf->dynstr_size, sym.st_name);
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
