//! How declarations are written, for the messages of every stage.

/// How a chain is written.
pub const CHAIN: &str = "Affine(784, 50) -> Relu";
/// The loss a chain usually ends with.
pub const LOSS: &str = "SoftmaxWithLoss";
/// The smallest network.
pub const NETWORK: &str = "Affine(784, 10) -> SoftmaxWithLoss";
