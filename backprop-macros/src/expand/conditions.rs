//! Conditions the macro leaves to the compiler, because a named constant is involved:
//! each is a trait implemented only when the condition holds, whose
//! `on_unimplemented` message is the one the macro gives for numbers, with the
//! compiler filling in the constants' values.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::model::{DeferredCheck, Relation};

pub fn expand(deferred: &[DeferredCheck]) -> TokenStream {
    let checks = deferred.iter().map(|check| {
        let span = check.span;
        let (left, right) = (check.left.value_at(span), check.right.value_at(span));
        let (message, label) = (&check.message, &check.label);
        let holds = match check.relation {
            Relation::Equal => quote!(LEFT == RIGHT),
            Relation::AtMost => quote!(LEFT <= RIGHT),
            Relation::MultipleOf => quote!(RIGHT != 0 && LEFT % RIGHT == 0),
        };
        // The constants are read in value position first: a misspelt one is then
        // reported once, like its other uses, not again as a missing const parameter.
        // The failing bound is on `Holds<false>` inside an impl the compiler is told
        // not to recommend, so the error ends with our message and one line of help,
        // not with a suggestion of the internal impl.
        quote_spanned! {span=>
            const _: () = {
                const LEFT: usize = #left;
                const RIGHT: usize = #right;
                struct Holds<const HOLDS: bool>;
                trait IsTrue {}
                impl IsTrue for Holds<true> {}
                #[diagnostic::on_unimplemented(message = #message, label = #label)]
                trait ShapeCondition<const A: usize, const B: usize, H> {
                    const CHECKED: ();
                }
                #[diagnostic::do_not_recommend]
                impl<const A: usize, const B: usize, H: IsTrue> ShapeCondition<A, B, H> for () {
                    const CHECKED: () = ();
                }
                <() as ShapeCondition<LEFT, RIGHT, Holds<{ #holds }>>>::CHECKED
            };
        }
    });
    quote!(#(#checks)*)
}
