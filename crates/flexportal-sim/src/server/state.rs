//! What the stand-in keeps while it runs: the tenant, its faults and counters, and the secret
//! that signs storage URLs.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::data::Tenant;
use crate::faults::{Counters, Faults};
use crate::util::{hex, now_epoch_secs};

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct SimState(pub(super) Arc<Inner>);

pub(super) struct Inner {
    pub(super) tenant: Tenant,
    pub(super) api_key: String,
    pub(super) secret: [u8; 32],
    pub(super) faults: Faults,
    pub(super) counters: Counters,
    pub(super) admin: bool,
    pub(super) public_base_url: Option<String>,
}

impl SimState {
    pub(crate) fn new(
        tenant: Tenant,
        api_key: String,
        faults: Faults,
        counters: Counters,
        admin: bool,
        public_base_url: Option<String>,
    ) -> Self {
        Self(Arc::new(Inner {
            tenant,
            api_key,
            secret: instance_secret(),
            faults,
            counters,
            admin,
            public_base_url,
        }))
    }

    pub fn tenant(&self) -> &Tenant {
        &self.0.tenant
    }

    pub fn faults(&self) -> &Faults {
        &self.0.faults
    }

    pub fn counters(&self) -> &Counters {
        &self.0.counters
    }

    pub(super) fn now(&self) -> i64 {
        now_epoch_secs() + self.0.faults.clock_offset_secs()
    }

    pub(super) fn sign(&self, file_id: &str, action: &str, expires: i64) -> String {
        hex(&self.mac(file_id, action, expires).finalize().into_bytes())
    }

    pub(super) fn mac(&self, file_id: &str, action: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0.secret).expect("HMAC takes any key length");
        mac.update(format!("{file_id}|{action}|{expires}").as_bytes());
        mac
    }
}

/// A fresh secret per sim instance, so URLs signed by one run are worthless to another.
/// `RandomState` is seeded from the operating system, which is all the randomness needed here.
fn instance_secret() -> [u8; 32] {
    use sha2::Digest;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = Sha256::new();
    for i in 0..4u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        hasher.update(h.finish().to_le_bytes());
    }
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(now_epoch_secs().to_le_bytes());
    hasher.finalize().into()
}
