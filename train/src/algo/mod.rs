//! The fitting algorithms: each turns a design matrix and labels into a
//! runtime model type. The per-kind wiring (flags, parameters, calibration,
//! notes) is in [`crate::models`].

/// Builder methods `name(value) -> Self` for fields of a parameter struct.
macro_rules! setters {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(
            #[doc = concat!("Sets `", stringify!($name), "`.")]
            pub fn $name(mut self, value: $ty) -> Self {
                self.$name = value;
                self
            }
        )*
    };
}

pub mod attention;
pub mod forest;
pub mod gbm;
pub mod linear;
pub mod sequence;
pub mod stump;
pub mod svm;
