//! The account's database as the token manager's vault: `run/` is where Peloton's edge and
//! the store meet, so neither imports the other.

use crate::peloton::token_vault::{TokenVault, VaultError};
use crate::secret::StoredTokens;
use crate::store::token_store::TokenStore;

impl TokenVault for TokenStore {
    fn load(&self) -> Result<StoredTokens, VaultError> {
        Ok(TokenStore::load(self)?)
    }

    fn save(&self, tokens: &StoredTokens) -> Result<(), VaultError> {
        Ok(TokenStore::save(self, tokens)?)
    }
}
