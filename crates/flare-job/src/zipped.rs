//! An exported job as an in-memory zip (entries under `<name>/`), e.g. for the relay's submit.

use std::io::Write;

use crate::JobError;
use crate::export::ExportedJob;

impl ExportedJob {
    /// The job as zip bytes with every file under `<name>/`.
    pub fn to_zip(&self) -> Result<Vec<u8>, JobError> {
        let err = |e: &dyn std::fmt::Display| JobError::Io {
            path: format!("{}.zip", self.name),
            message: e.to_string().to_lowercase(),
        };
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (rel, bytes) in &self.files {
            writer
                .start_file(format!("{}/{rel}", self.name), options)
                .map_err(|e| err(&e))?;
            writer.write_all(bytes).map_err(|e| err(&e))?;
        }
        let cursor = writer.finish().map_err(|e| err(&e))?;
        Ok(cursor.into_inner())
    }
}
