//! trybuild compile tests of the faas-memo macros: see README.md.
