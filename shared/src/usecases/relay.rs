//! Relaying a text (filled below).
