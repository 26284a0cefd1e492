//! The parts of the HA cluster page: the cluster and its nodes, and the actions.

pub mod actions;
pub mod overview;

pub use actions::ActionState;
pub use overview::ClusterView;
