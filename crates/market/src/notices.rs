//! Emails the marketplace sends, as outbox rows written in the batch that causes
//! them. The market crate decides *when* (a contract started); the API layer,
//! which owns the templates, decides *what it says* by handing a renderer to
//! [`crate::Markets::start`].

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use hashmarket_store::market::{ContractRow, UserEmail};

/// Which side of a contract an email is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The buyer of the hash power.
    Buyer,
    /// The seller whose rig delivers it.
    Seller,
}

/// A rendered email: subject, plain text, HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Subject line.
    pub subject: String,
    /// text/plain body.
    pub text: String,
    /// text/html body.
    pub html: String,
}

/// Renders the "contract started" email for one party.
pub type ContractStartedFn = Arc<dyn Fn(&ContractRow, Party) -> Message + Send + Sync>;

/// Renders the "contract ended" email (with its final totals) for one party.
pub type ContractEndedFn = Arc<dyn Fn(&ContractRow, Party) -> Message + Send + Sync>;

/// The emails batches write; without renderers nothing is sent.
#[derive(Clone, Default)]
pub struct Notices {
    /// "Your contract has started", to buyer and seller.
    pub contract_started: Option<ContractStartedFn>,
    /// "Your contract has ended", with what was delivered, paid and refunded.
    pub contract_ended: Option<ContractEndedFn>,
}

impl Notices {
    /// The outbox rows for a contract that has just started: one to the buyer,
    /// one to the seller (one only if they are the same user).
    pub fn contract_started(&self, contract: &ContractRow) -> Vec<UserEmail> {
        match &self.contract_started {
            Some(render) => to_both(contract, |c, p| render(c, p)),
            None => Vec::new(),
        }
    }

    /// The outbox rows for a contract that has just ended (its row carries the
    /// final totals).
    pub fn contract_ended(&self, contract: &ContractRow) -> Vec<UserEmail> {
        match &self.contract_ended {
            Some(render) => to_both(contract, |c, p| render(c, p)),
            None => Vec::new(),
        }
    }
}

/// One email to the buyer and one to the seller (one only if they are the same).
fn to_both(
    contract: &ContractRow,
    render: impl Fn(&ContractRow, Party) -> Message,
) -> Vec<UserEmail> {
    let mut parties = vec![(contract.buyer_id, Party::Buyer)];
    if contract.seller_id != contract.buyer_id {
        parties.push((contract.seller_id, Party::Seller));
    }
    parties
        .into_iter()
        .map(|(user_id, party)| {
            let message = render(contract, party);
            UserEmail {
                id: Uuid::now_v7(),
                user_id,
                subject: message.subject,
                body_text: message.text,
                body_html: message.html,
                // Wall time: emails are operations, not business events.
                created_at: Utc::now(),
            }
        })
        .collect()
}
