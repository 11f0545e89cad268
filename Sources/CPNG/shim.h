// libpng behind a setjmp boundary: libpng reports fatal errors by longjmp to png_jmpbuf, so every call that can
// fail runs inside one of these C helpers (never across Swift frames) and hands Swift a status and a message.
// Swift calls only the tk_png_* functions below, from Sources/TResNetImage/PNGDecoder.swift.
#ifndef TRESNET_CPNG_SHIM_H
#define TRESNET_CPNG_SHIM_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <png.h>

typedef struct tk_png {
    png_structp png;
    png_infop info;
    const unsigned char *data;
    size_t size;
    size_t position;
    char message[256];
    char first_warning[256];
    int warnings;
    int truncated;
    png_bytepp rows;
    size_t next_chunk;    // where the next chunk header starts (libpng reads chunks in order)
    char overrun[128];    // an ancillary chunk that declared more bytes than the file holds
} tk_png;

static void tk_png_error(png_structp png, png_const_charp message) {
    tk_png *p = (tk_png *)png_get_error_ptr(png);
    if (p->message[0] == 0) snprintf(p->message, sizeof p->message, "%s", message);
    png_longjmp(png, 1);
}

static void tk_png_warning(png_structp png, png_const_charp message) {
    tk_png *p = (tk_png *)png_get_error_ptr(png);
    if (p->warnings == 0) snprintf(p->first_warning, sizeof p->first_warning, "%s", message);
    p->warnings += 1;
}

// Reads from the in-memory file; asking for bytes past its end is a truncated file.
//
// libpng allocates an ancillary chunk's declared length (up to 2 GiB: eXIf, iCCP, text, unknown chunks) before it
// reads the data, so a few bytes declaring a huge chunk made one huge allocation. When libpng reads a chunk header
// (8 bytes at the next chunk boundary) whose ancillary chunk runs past the end of the file, the length it sees is
// cut to what the file holds: the read then ends the same way (a CRC mismatch libpng discards the chunk for, then
// the end of the file: truncated before the image data, ignored after it, as PIL ignores a broken tail), but the
// allocation is at most the file's size. Critical chunks (IDAT) are not allocated whole and keep their length.
static void tk_png_read(png_structp png, png_bytep out, png_size_t length) {
    tk_png *p = (tk_png *)png_get_io_ptr(png);
    if (length > p->size - p->position) {
        p->truncated = 1;
        if (p->overrun[0])
            snprintf(p->message, sizeof p->message, "file is truncated: %s", p->overrun);
        else
            snprintf(p->message, sizeof p->message, "file is truncated: %zu more bytes needed at offset %zu",
                     (size_t)length, p->position);
        png_longjmp(png, 1);
    }
    memcpy(out, p->data + p->position, length);
    if (length == 8 && p->position == p->next_chunk) {
        size_t declared = ((size_t)out[0] << 24) | ((size_t)out[1] << 16) | ((size_t)out[2] << 8) | (size_t)out[3];
        size_t left = p->size - p->position - 8;  // after this header
        int ancillary = (out[4] & 0x20) != 0;
        if (ancillary && declared <= 0x7fffffffU && declared + 4 > left) {
            size_t cut = left >= 4 ? left - 4 : 0;
            if (!p->overrun[0])
                snprintf(p->overrun, sizeof p->overrun, "chunk %c%c%c%c at offset %zu declares %zu bytes, %zu follow",
                         out[4], out[5], out[6], out[7], p->position, declared, left);
            out[0] = (png_byte)(cut >> 24);
            out[1] = (png_byte)(cut >> 16);
            out[2] = (png_byte)(cut >> 8);
            out[3] = (png_byte)cut;
            declared = cut;
        }
        p->next_chunk = p->position + 12 + declared;
    }
    p->position += length;
}

static inline tk_png *tk_png_new(void) { return (tk_png *)calloc(1, sizeof(tk_png)); }

static inline void tk_png_free(tk_png *p) {
    if (!p) return;
    if (p->png) png_destroy_read_struct(&p->png, p->info ? &p->info : NULL, NULL);
    free(p->rows);
    free(p);
}

static inline const char *tk_png_message(const tk_png *p) { return p->message; }
static inline const char *tk_png_first_warning(const tk_png *p) { return p->first_warning; }
static inline int tk_png_warnings(const tk_png *p) { return p->warnings; }
static inline int tk_png_truncated(const tk_png *p) { return p->truncated; }

/// Reads the signature and the chunks up to the image data of the `size` bytes at `data` (which must stay alive
/// until tk_png_free), and asks for rows of one sample per byte below 8 bits (values unscaled), 16-bit samples
/// big-endian as stored, interlacing undone. Returns 0; -1 with tk_png_message set; -2 (width and height set)
/// when the image has more than `max_pixels` pixels.
static inline int tk_png_read_header(tk_png *p, const unsigned char *data, size_t size, unsigned long long max_pixels,
                                     unsigned *width, unsigned *height, int *bit_depth, int *color_type,
                                     int *interlaced, size_t *row_bytes) {
    p->data = data;
    p->size = size;
    p->next_chunk = 8;  // after the signature
    p->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, p, tk_png_error, tk_png_warning);
    if (!p->png) { snprintf(p->message, sizeof p->message, "libpng could not start"); return -1; }
    p->info = png_create_info_struct(p->png);
    if (!p->info) { snprintf(p->message, sizeof p->message, "libpng could not start"); return -1; }
    if (setjmp(png_jmpbuf(p->png))) return -1;
    png_set_read_fn(p->png, p, tk_png_read);
    png_set_user_limits(p->png, 0x7fffffffU, 0x7fffffffU);  // the caller checks the pixel count
    png_read_info(p->png, p->info);
    png_uint_32 w = 0, h = 0;
    int depth = 0, type = 0, interlace = 0;
    png_get_IHDR(p->png, p->info, &w, &h, &depth, &type, &interlace, NULL, NULL);
    *width = w;
    *height = h;
    if ((unsigned long long)w * (unsigned long long)h > max_pixels) return -2;  // before libpng sizes its rows
    if (depth < 8) png_set_packing(p->png);
    if (interlace != PNG_INTERLACE_NONE) png_set_interlace_handling(p->png);
    png_read_update_info(p->png, p->info);
    *width = w;
    *height = h;
    *bit_depth = depth;
    *color_type = type;
    *interlaced = interlace != PNG_INTERLACE_NONE;
    *row_bytes = png_get_rowbytes(p->png, p->info);
    return 0;
}

/// The palette (PLTE) as RGB triples into `rgb` (room for 256); returns the entry count (0 when absent).
static inline int tk_png_palette(tk_png *p, unsigned char *rgb) {
    png_colorp palette = NULL;
    int count = 0;
    if (png_get_PLTE(p->png, p->info, &palette, &count) != PNG_INFO_PLTE || !palette) return 0;
    if (count > 256) count = 256;
    for (int i = 0; i < count; i++) {
        rgb[3 * i + 0] = palette[i].red;
        rgb[3 * i + 1] = palette[i].green;
        rgb[3 * i + 2] = palette[i].blue;
    }
    return count;
}

/// Decodes the image into `out`: `rows` rows of `row_bytes` bytes. Returns 0, or -1 with tk_png_message set.
static inline int tk_png_decode(tk_png *p, unsigned char *out, size_t row_bytes, size_t rows) {
    if (row_bytes != png_get_rowbytes(p->png, p->info) || rows != png_get_image_height(p->png, p->info)) {
        snprintf(p->message, sizeof p->message, "output geometry differs from the header");
        return -1;
    }
    p->rows = (png_bytepp)malloc((rows ? rows : 1) * sizeof(png_bytep));
    if (!p->rows) { snprintf(p->message, sizeof p->message, "out of memory"); return -1; }
    for (size_t y = 0; y < rows; y++) p->rows[y] = out + y * row_bytes;
    if (setjmp(png_jmpbuf(p->png))) return -1;
    png_read_image(p->png, p->rows);
    return 0;
}

/// Decodes the next row of a non-interlaced image into `row` (row_bytes bytes), so a caller can convert row by row
/// without holding the stored image. Returns 0, or -1 with tk_png_message set.
static inline int tk_png_read_row(tk_png *p, unsigned char *row) {
    if (setjmp(png_jmpbuf(p->png))) return -1;
    png_read_row(p->png, row, NULL);
    return 0;
}

/// Reads the chunks after the image data (PIL reads them too, for a late eXIf). Returns 0, or -1 when they are
/// broken or missing; PIL ignores that, and so does the caller. Call only after tk_png_decode succeeded.
static inline int tk_png_read_end(tk_png *p) {
    if (setjmp(png_jmpbuf(p->png))) return -1;
    png_read_end(p->png, p->info);
    return 0;
}

/// The eXIf chunk (a TIFF structure) if present: its bytes stay owned by libpng until tk_png_free.
static inline const unsigned char *tk_png_exif(tk_png *p, unsigned *length) {
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 n = 0;
    if (png_get_eXIf_1(p->png, p->info, &n, &exif) == PNG_INFO_eXIf && exif) {
        *length = n;
        return exif;
    }
#endif
    *length = 0;
    return NULL;
}

#endif
