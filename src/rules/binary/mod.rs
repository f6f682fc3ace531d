//! FT7xx — built binaries: what `ftaudit wheel` finds in wheels and extension
//! binaries. The checks live in `crate::binary`; this file holds the rules and
//! their documentation.
//!
//! One file per rule; the checks live in `src/binary/`, which reads these statics.

pub mod ft701_free_threaded_tag_on_gil_build;
pub mod ft702_gil_tag_on_free_threaded_build;
pub mod ft703_stable_abi_for_free_threaded;
pub mod ft704_suffix_tag_mismatch;
pub mod ft705_binary_reenables_gil;
pub mod ft706_missing_free_threaded_wheel;
pub mod ft707_wheel_classifier_mismatch;
pub mod ft708_borrowed_reference_imports;
pub mod ft709_unsafe_wheel_archive;

pub use ft701_free_threaded_tag_on_gil_build::FT_TAG_ON_GIL_BUILD;
pub use ft702_gil_tag_on_free_threaded_build::GIL_TAG_ON_FT_BUILD;
pub use ft703_stable_abi_for_free_threaded::STABLE_ABI_FOR_FREE_THREADED;
pub use ft704_suffix_tag_mismatch::SUFFIX_TAG_MISMATCH;
pub use ft705_binary_reenables_gil::BINARY_REENABLES_GIL;
pub use ft706_missing_free_threaded_wheel::MISSING_FREE_THREADED_WHEEL;
pub use ft707_wheel_classifier_mismatch::CLASSIFIER_MISMATCH;
pub use ft708_borrowed_reference_imports::BORROWED_REFERENCE_IMPORTS;
pub use ft709_unsafe_wheel_archive::UNSAFE_WHEEL_ARCHIVE;

use crate::rule::Rule;

/// The FT7xx rules, in code order.
pub static RULES: &[&Rule] = &[
    &FT_TAG_ON_GIL_BUILD,
    &GIL_TAG_ON_FT_BUILD,
    &STABLE_ABI_FOR_FREE_THREADED,
    &SUFFIX_TAG_MISMATCH,
    &BINARY_REENABLES_GIL,
    &MISSING_FREE_THREADED_WHEEL,
    &CLASSIFIER_MISMATCH,
    &BORROWED_REFERENCE_IMPORTS,
    &UNSAFE_WHEEL_ARCHIVE,
];
