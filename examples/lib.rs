//! Runnable examples of faas-memo live next to this file: see README.md.
