//! Object storage without the `object-store` feature: no URL can be made into a place, so an
//! import given one refuses it up front, naming the feature. The types the other stages use
//! exist, uninhabited, so that their code is the same with the feature or without it.

use std::sync::Arc;

use crate::Error;

/// Whether `input` is an object-storage URL.
pub(crate) fn is_url(input: &str) -> bool {
    ["s3://", "gs://", "az://"]
        .iter()
        .any(|scheme| input.starts_with(scheme))
}

/// One object to read: none can be, without the feature.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub(crate) url: Arc<str>,
    pub(crate) e_tag: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) size: u64,
    never: Never,
}

/// No value: what makes [`Object`] and [`Place`] uninhabited.
#[derive(Debug, Clone, Copy)]
enum Never {}

/// Makes no store.
#[derive(Debug)]
pub(crate) struct Stores;

impl Stores {
    pub(crate) fn new(_environment: impl Fn(&str) -> Option<String>) -> Self {
        Self
    }

    /// Refuses `url`: object storage needs the feature.
    pub(crate) fn place(&mut self, url: &str) -> Result<Place, Error> {
        Err(Error::input(
            url,
            format!(
                "{url}: object storage needs asapp-conversations-import's `object-store` feature"
            ),
        ))
    }
}

/// An object, or a prefix: none can be made without the feature.
#[derive(Debug, Clone)]
pub(crate) struct Place(Never);

impl Place {
    pub(crate) fn url(&self) -> &str {
        match self.0 {}
    }

    pub(crate) fn is_prefix(&self) -> bool {
        match self.0 {}
    }

    pub(crate) fn contains(&self, _url: &str) -> bool {
        match self.0 {}
    }

    pub(crate) fn objects(
        &self,
    ) -> impl futures_util::Stream<Item = Result<Object, Error>> + use<> {
        let never = self.0;
        futures_util::stream::once(async move { match never {} })
    }

    pub(crate) async fn exists(&self, _url: &str) -> Result<bool, Error> {
        match self.0 {}
    }
}

/// The chunks of `object`: there is none.
pub(crate) async fn open(
    object: &Object,
) -> Result<futures_util::stream::Empty<Result<bytes::Bytes, Error>>, Error> {
    match object.never {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_refused_naming_the_feature() {
        assert!(is_url("s3://calls/2024/") && !is_url("calls/s3:/x"));
        let refused = Stores::new(|_| None).place("s3://calls/2024/").unwrap_err();
        assert_eq!(refused.place(), "s3://calls/2024/");
        assert_eq!(refused.fault(), crate::Fault::Input);
        assert!(
            refused.to_string().contains("`object-store` feature"),
            "{refused}"
        );
    }
}
