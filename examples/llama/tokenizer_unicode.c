/* Unicode helpers for the tokenizer: UTF-8 decoding with llama.cpp's treatment of bad
 * bytes, category flags from the generated range table, and the GPT-2 byte-level mapping
 * (every byte gets a printable character so that BPE works on text, never on raw bytes). */
#include "tokenizer_impl.h"

uint32_t qgl_cp_flags(uint32_t cp)
{
    if (cp >= 0x110000)
        return 0;
    /* last range whose start <= cp */
    size_t lo = 0, hi = qgl_ucat_count;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (qgl_ucat_start[mid] <= cp)
            lo = mid;
        else
            hi = mid;
    }
    uint32_t f = qgl_ucat_flags[lo];
    if (cp == 0x20 || (cp >= 0x09 && cp <= 0x0D)) {
        f |= QGL_UF_WHITESPACE;
    } else if (cp >= 0x80) {
        for (size_t i = 0; i < qgl_white_space_count; i++) {
            if (qgl_white_space[i] == cp) {
                f |= QGL_UF_WHITESPACE;
                break;
            }
            if (qgl_white_space[i] > cp)
                break;
        }
    }
    return f;
}

size_t qgl_utf8_len(unsigned char lead)
{
    if (lead < 0xC0)
        return 1;
    if (lead < 0xE0)
        return 2;
    if (lead < 0xF0)
        return 3;
    return 4;
}

static bool is_cont(const unsigned char *s, size_t i, size_t len)
{
    return i < len && (s[i] & 0xC0) == 0x80;
}

size_t qgl_utf8_decode(const char *str, size_t len, uint32_t *cps)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = 0, i = 0;
    while (i < len) {
        unsigned char c = s[i];
        uint32_t cp = 0xFFFD;
        size_t adv = 1;
        if (c < 0x80) {
            cp = c;
        } else if (c >= 0xC0 && c < 0xE0) {
            if (is_cont(s, i + 1, len)) {
                cp = ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3F);
                adv = 2;
            }
        } else if (c >= 0xE0 && c < 0xF0) {
            if (is_cont(s, i + 1, len) && is_cont(s, i + 2, len)) {
                cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
                     (s[i + 2] & 0x3F);
                adv = 3;
            }
        } else if (c >= 0xF0 && c < 0xF8) {
            if (is_cont(s, i + 1, len) && is_cont(s, i + 2, len) && is_cont(s, i + 3, len)) {
                cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
                     ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
                adv = 4;
                /* llama.cpp cannot re-encode these and fails; we keep going instead */
                if (cp > 0x10FFFF) {
                    cp = 0xFFFD;
                    adv = 1;
                }
            }
        }
        cps[n++] = cp;
        i += adv;
    }
    return n;
}

size_t qgl_utf8_encode(uint32_t cp, char *buf)
{
    unsigned char *b = (unsigned char *)buf;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (unsigned char)(0xF0 | ((cp >> 18) & 0x07));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* GPT-2's table: printable Latin-1 bytes ('!'..'~', 0xA1..0xAC, 0xAE..0xFF) stand for
 * themselves; the other 68 bytes, in increasing order, get code points 256, 257, ... */
static uint32_t byte_cp(uint8_t b)
{
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)
        return b;
    if (b <= 0x20)
        return 256u + b;
    if (b <= 0xA0)
        return 256u + 33u + (uint32_t)(b - 0x7F);
    return 256u + 67u; /* 0xAD */
}

size_t qgl_byte_to_char(uint8_t b, char out[2])
{
    uint32_t cp = byte_cp(b);
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

int qgl_char_to_byte(uint32_t cp)
{
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
        return (int)cp;
    if (cp >= 256 && cp <= 256 + 32)
        return (int)(cp - 256);
    if (cp >= 256 + 33 && cp <= 256 + 66)
        return (int)(0x7F + (cp - 256 - 33));
    if (cp == 256 + 67)
        return 0xAD;
    return -1;
}
