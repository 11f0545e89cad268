// libjpeg(-turbo) behind a setjmp boundary. libjpeg reports fatal errors by calling `error_exit`, which must not
// return; these helpers longjmp back into C (never across Swift frames) and hand Swift a status and a message.
// Swift calls only the tk_jpeg_* functions below, from Sources/TResNetImage/JPEGDecoder.swift.
#ifndef TRESNET_CJPEG_SHIM_H
#define TRESNET_CJPEG_SHIM_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct tk_jpeg_error_mgr {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    char first_warning[JMSG_LENGTH_MAX];
    int warnings;
    int truncated;
} tk_jpeg_error_mgr;

typedef struct tk_jpeg {
    struct jpeg_decompress_struct cinfo;
    tk_jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    int created;
    int too_many_scans;
} tk_jpeg;

/// A progressive JPEG may declare thousands of tiny scans, each a full pass over the coefficients (a CPU
/// bomb; libjpeg-turbo's tools cap them with -maxscans). More than this many scans is refused.
#define TK_JPEG_MAX_SCANS 1000

static void tk_jpeg_error_exit(j_common_ptr cinfo) {
    tk_jpeg_error_mgr *e = (tk_jpeg_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

// Warnings (level -1) are counted and the first kept, as PIL ignores them, except a premature end of the data:
// that is a truncated file, which PIL refuses ("image file is truncated"), so it is fatal here too.
static void tk_jpeg_emit_message(j_common_ptr cinfo, int level) {
    tk_jpeg_error_mgr *e = (tk_jpeg_error_mgr *)cinfo->err;
    if (level >= 0) return;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        e->truncated = 1;
        (*cinfo->err->format_message)(cinfo, e->message);
        longjmp(e->jump, 1);
    }
    if (e->warnings == 0) (*cinfo->err->format_message)(cinfo, e->first_warning);
    e->warnings += 1;
}

static void tk_jpeg_progress_monitor(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > TK_JPEG_MAX_SCANS) {
        tk_jpeg *j = (tk_jpeg *)d->client_data;
        j->too_many_scans = 1;
        snprintf(j->err.message, sizeof j->err.message, "more than %d progressive scans", TK_JPEG_MAX_SCANS);
        longjmp(j->err.jump, 1);
    }
}

static inline int tk_jpeg_too_many_scans(const tk_jpeg *j) { return j->too_many_scans; }

static inline tk_jpeg *tk_jpeg_new(void) {
    tk_jpeg *j = (tk_jpeg *)calloc(1, sizeof(tk_jpeg));
    return j;
}

static inline void tk_jpeg_free(tk_jpeg *j) {
    if (!j) return;
    if (j->created) jpeg_destroy_decompress(&j->cinfo);
    free(j);
}

static inline const char *tk_jpeg_message(const tk_jpeg *j) { return j->err.message; }
static inline const char *tk_jpeg_first_warning(const tk_jpeg *j) { return j->err.first_warning; }
static inline int tk_jpeg_warnings(const tk_jpeg *j) { return j->err.warnings; }
static inline int tk_jpeg_truncated(const tk_jpeg *j) { return j->err.truncated; }

/// Reads the headers of the `size` bytes at `data` (which must stay alive until tk_jpeg_free) and selects the
/// output colour space PIL uses for the component count (1: grayscale, 3: RGB, 4: CMYK).
/// Returns 0, or -1 with tk_jpeg_message set.
static inline int tk_jpeg_read_header(tk_jpeg *j, const unsigned char *data, unsigned long size, int *width,
                                      int *height, int *components, int *color_space) {
    j->cinfo.err = jpeg_std_error(&j->err.pub);
    j->err.pub.error_exit = tk_jpeg_error_exit;
    j->err.pub.emit_message = tk_jpeg_emit_message;
    if (setjmp(j->err.jump)) return -1;
    jpeg_create_decompress(&j->cinfo);
    j->created = 1;
    j->cinfo.client_data = j;
    j->progress.progress_monitor = tk_jpeg_progress_monitor;
    j->cinfo.progress = &j->progress;
    jpeg_mem_src(&j->cinfo, data, size);
    jpeg_read_header(&j->cinfo, TRUE);
    switch (j->cinfo.num_components) {
    case 1: j->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case 3: j->cinfo.out_color_space = JCS_RGB; break;
    case 4: j->cinfo.out_color_space = JCS_CMYK; break;
    default:
        snprintf(j->err.message, sizeof j->err.message, "unsupported component count %d",
                 j->cinfo.num_components);
        return -1;
    }
    *width = (int)j->cinfo.image_width;
    *height = (int)j->cinfo.image_height;
    *components = j->cinfo.num_components;
    *color_space = (int)j->cinfo.jpeg_color_space;
    return 0;
}

/// What decoding will hold in memory besides the output rows, known after tk_jpeg_read_header: a progressive or
/// multi-scan file keeps every DCT coefficient of the image (2 bytes each, 64 per block per component) until the
/// last scan; a baseline interleaved file needs only a few block rows. Returns the coefficient bytes (0 for a
/// single-scan file) and sets `*progressive`.
static inline unsigned long long tk_jpeg_coefficient_bytes(const tk_jpeg *j, int *progressive) {
    const struct jpeg_decompress_struct *c = &j->cinfo;
    *progressive = c->progressive_mode ? 1 : 0;
    if (!c->progressive_mode && c->comps_in_scan >= c->num_components) return 0;
    unsigned long long total = 0;
    for (int i = 0; i < c->num_components; i++) {
        const jpeg_component_info *comp = &c->comp_info[i];
        // rounded up to whole MCUs, as libjpeg allocates them
        unsigned long long bw = comp->width_in_blocks + (unsigned long long)comp->h_samp_factor;
        unsigned long long bh = comp->height_in_blocks + (unsigned long long)comp->v_samp_factor;
        total += bw * bh * 64ULL * sizeof(JCOEF);
    }
    return total;
}

/// Caps what libjpeg may allocate for its image-sized buffers (the whole-image coefficient buffer of a progressive
/// file): past it libjpeg stops with an error instead of allocating (it has no backing store).
static inline void tk_jpeg_set_memory_limit(tk_jpeg *j, long bytes) { j->cinfo.mem->max_memory_to_use = bytes; }

/// Starts decompression and checks the output geometry against `row_bytes` × `rows`.
/// Returns 0, or -1 with tk_jpeg_message set.
static inline int tk_jpeg_start(tk_jpeg *j, size_t row_bytes, size_t rows) {
    if (setjmp(j->err.jump)) return -1;
    jpeg_start_decompress(&j->cinfo);
    if ((size_t)j->cinfo.output_width * (size_t)j->cinfo.output_components != row_bytes
        || (size_t)j->cinfo.output_height != rows) {
        snprintf(j->err.message, sizeof j->err.message, "output geometry %ux%u×%d differs from the header",
                 j->cinfo.output_width, j->cinfo.output_height, j->cinfo.output_components);
        jpeg_abort_decompress(&j->cinfo);
        return -1;
    }
    return 0;
}

/// Decodes the next output row into `row` (row_bytes bytes). Returns 0, or -1 with tk_jpeg_message set.
static inline int tk_jpeg_read_row(tk_jpeg *j, unsigned char *row) {
    if (setjmp(j->err.jump)) return -1;
    JSAMPROW r = row;
    if (jpeg_read_scanlines(&j->cinfo, &r, 1) != 1) {
        snprintf(j->err.message, sizeof j->err.message, "decoder stopped at row %u", j->cinfo.output_scanline);
        jpeg_abort_decompress(&j->cinfo);
        return -1;
    }
    return 0;
}

/// Finishes decompression after the last row. Returns 0, or -1 with tk_jpeg_message set.
static inline int tk_jpeg_finish(tk_jpeg *j) {
    if (setjmp(j->err.jump)) return -1;
    jpeg_finish_decompress(&j->cinfo);
    return 0;
}

#endif
