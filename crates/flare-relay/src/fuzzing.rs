//! Entry points for fuzz targets and the corpus replay: the relay's browser-frame parser, upload
//! entry-name check and zip unpacking, each taking raw bytes and returning a `Result`; the client's
//! decoders are in `flare_client::fuzzing`. Not an API: `fuzz/` and the corpus replay test call it.

use std::io::Write;
use std::path::{Component, Path};

use flare_model::{ClientFrame, ServerFrame};

use crate::upload::{self, UploadLimits};
use crate::ws::parse_frame;

/// The caps the zip target unpacks under (small, so a zip bomb stops fast).
const ZIP_LIMITS: UploadLimits = UploadLimits {
    max_entries: 64,
    max_extracted_bytes: 1024 * 1024,
};

/// Parses a browser frame; a parsed frame must survive a round trip through its JSON, and a
/// refused one must give an error frame with a message. Returns the frame id.
pub fn client_frame(data: &[u8]) -> Result<u64, String> {
    let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
    match parse_frame(text) {
        Ok(frame) => {
            let json = serde_json::to_string(&frame).map_err(|e| e.to_string())?;
            let again: ClientFrame = serde_json::from_str(&json).map_err(|e| e.to_string())?;
            assert_eq!(again, frame, "frame changed in a round trip through {json}");
            Ok(frame.id)
        }
        Err(bad) => {
            let message = bad.to_string();
            assert!(!message.is_empty(), "empty error for {text:?}");
            let reply = ServerFrame::Error {
                id: bad.id,
                error: flare_model::FlareError::BadRequest {
                    message: message.clone(),
                },
            };
            let _ = crate::hub::frame_text(&reply);
            Err(message)
        }
    }
}

/// Checks an upload entry name with the relay's and the client's rules; an accepted name's
/// components must be plain names that stay inside the job folder.
pub fn upload_entry_names(data: &[u8]) -> Result<usize, String> {
    let name = String::from_utf8_lossy(data);
    let client = flare_client::fuzzing::entry_name(&name);
    let components = upload::entry_components(&name)
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    for c in &components {
        let mut parts = Path::new(c).components();
        assert!(
            matches!(parts.next(), Some(Component::Normal(_))) && parts.next().is_none(),
            "entry {name:?} gives component {c:?}"
        );
        assert!(!c.contains(['/', '\\']) && !c.chars().any(char::is_control));
    }
    if client.is_ok() {
        // What the client takes, the relay takes or skips (it is the stricter of the two).
        assert!(!name.contains('\\') && !name.starts_with('/'));
    }
    Ok(components.len())
}

/// Unpacks a zip archive as an upload (into a fresh temporary folder, under small caps) and
/// reads it as the client reads a job zip. Returns the number of unpacked files.
pub fn zip_reader(data: &[u8]) -> Result<usize, String> {
    let client = flare_client::fuzzing::zip_reader(data);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let zip = dir.path().join("upload.zip");
    let raw = dir.path().join("raw");
    std::fs::create_dir(&raw).map_err(|e| e.to_string())?;
    std::fs::File::create(&zip)
        .and_then(|mut f| f.write_all(data))
        .map_err(|e| e.to_string())?;
    let unpacked = upload::extract_zip(&zip, &raw, ZIP_LIMITS).map_err(|e| e.to_string());
    assert_inside(&raw, &raw);
    let unpacked = unpacked?;
    assert!(unpacked.bytes <= ZIP_LIMITS.max_extracted_bytes);
    client?;
    Ok(unpacked.files)
}

/// Everything unpacked is a plain file or folder under `root`.
fn assert_inside(root: &Path, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        assert!(path.starts_with(root), "{path:?} is outside {root:?}");
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        assert!(!meta.file_type().is_symlink(), "{path:?} is a symlink");
        if meta.is_dir() {
            assert_inside(root, &path);
        }
    }
}
