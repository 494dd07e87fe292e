//! Where the token manager keeps an account's tokens across restarts. Peloton's edge does
//! not know the store: whoever builds the account hands in a vault (`run/` gives the
//! account's database).

use crate::secret::StoredTokens;

/// Why a vault could not read or write; its message names the path, never a token.
pub type VaultError = Box<dyn std::error::Error + Send + Sync>;

pub trait TokenVault: Send + Sync + std::fmt::Debug {
    fn load(&self) -> Result<StoredTokens, VaultError>;
    fn save(&self, tokens: &StoredTokens) -> Result<(), VaultError>;
}
