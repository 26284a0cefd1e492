//! The parts of the import page (Admin > General > Import a patch file): the form with its
//! upload progress, and the verdict on the file.

pub mod form;
pub mod verdict;

pub use form::ImportForm;
