// SHA-256 from the system's libcrypto (OpenSSL 3; Debian libssl-dev). Only the one-shot-free streaming calls
// SHA256_Init/Update/Final are used, through Sources/TResNetCore/Hashing.swift alone. They are deprecated in
// OpenSSL 3 in favour of EVP, but run the same code (SHA-NI / AVX2 assembly chosen at run time) and keep the
// context a plain value, which the Swift side copies freely.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
