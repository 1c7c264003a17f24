//! Browser glue for job files and small conveniences: XMLHttpRequest with progress (the
//! authorized API's uploads and downloads run on it), saving a blob, folder drag and drop, the
//! clipboard, sessionStorage, random tokens.

use flare_model::ErrorBody;
use futures::channel::oneshot;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, DataTransfer, File, FileSystemDirectoryEntry, FileSystemDirectoryReader, FileSystemEntry,
    FileSystemFileEntry, FormData, ProgressEvent, XmlHttpRequest,
};

/// Bytes done and total (total is None when the server did not say).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub loaded: f64,
    pub total: Option<f64>,
}

/// What the user picked to upload.
#[derive(Clone, Debug)]
pub enum Picked {
    /// One zip file.
    Zip(File),
    /// A folder's files with their paths relative to the folder's parent (`hello/meta.json`).
    Folder(Vec<(String, File)>),
}

impl Picked {
    /// Total size in bytes.
    pub fn size(&self) -> f64 {
        match self {
            Picked::Zip(f) => f.size(),
            Picked::Folder(files) => files.iter().map(|(_, f)| f.size()).sum(),
        }
    }

    /// A short description: "hello-numpy.zip" or "hello-numpy/ (5 files)".
    pub fn label(&self) -> String {
        match self {
            Picked::Zip(f) => f.name(),
            Picked::Folder(files) => {
                let top = files
                    .first()
                    .and_then(|(p, _)| p.split('/').next())
                    .unwrap_or("folder");
                format!(
                    "{top}/ ({} file{})",
                    files.len(),
                    if files.len() == 1 { "" } else { "s" }
                )
            }
        }
    }
}

/// A one-shot answer that several JS callbacks race to give; the first wins.
type Once<T> = std::rc::Rc<std::cell::RefCell<Option<oneshot::Sender<T>>>>;

fn once<T>() -> (Once<T>, oneshot::Receiver<T>) {
    let (tx, rx) = oneshot::channel();
    (std::rc::Rc::new(std::cell::RefCell::new(Some(tx))), rx)
}

fn fire<T>(once: &Once<T>, value: T) {
    if let Some(tx) = once.borrow_mut().take() {
        let _ = tx.send(value);
    }
}

pub(crate) fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// A request body.
pub(crate) enum Body {
    Blob(Blob),
    Form(FormData),
}

/// Runs `xhr` (opened by the caller) with `body` and waits for it to end. Progress goes to
/// `on_progress` (upload progress when `upload` is true). Returns the HTTP status.
pub(crate) async fn run_xhr(
    xhr: &XmlHttpRequest,
    body: Option<Body>,
    upload: bool,
    on_progress: impl Fn(Progress) + 'static,
) -> Result<u16, String> {
    let (tx, rx) = once::<Result<(), String>>();
    let t = tx.clone();
    let onload = Closure::<dyn FnMut()>::new(move || fire(&t, Ok(())));
    let t = tx.clone();
    let onerror = Closure::<dyn FnMut()>::new(move || {
        fire(
            &t,
            Err("the network request failed (is the relay running?)".to_owned()),
        )
    });
    let t = tx.clone();
    let onabort = Closure::<dyn FnMut()>::new(move || fire(&t, Err("cancelled".to_owned())));
    let onprogress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        on_progress(Progress {
            loaded: e.loaded(),
            total: e.length_computable().then(|| e.total()),
        })
    });
    xhr.set_onload(Some(onload.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(onabort.as_ref().unchecked_ref()));
    if upload {
        xhr.upload()
            .map_err(js_err)?
            .set_onprogress(Some(onprogress.as_ref().unchecked_ref()));
    } else {
        xhr.set_onprogress(Some(onprogress.as_ref().unchecked_ref()));
    }
    match &body {
        Some(Body::Blob(b)) => xhr.send_with_opt_blob(Some(b)),
        Some(Body::Form(f)) => xhr.send_with_opt_form_data(Some(f)),
        None => xhr.send(),
    }
    .map_err(js_err)?;
    let result = rx
        .await
        .unwrap_or_else(|_| Err("the request ended without an answer".to_owned()));
    // The closures must outlive the request; drop the handlers with them.
    xhr.set_onload(None);
    xhr.set_onerror(None);
    xhr.set_onabort(None);
    xhr.set_onprogress(None);
    if let Ok(u) = xhr.upload() {
        u.set_onprogress(None);
    }
    drop((onload, onerror, onabort, onprogress));
    result?;
    xhr.status().map_err(js_err)
}

/// The relay's `{"error": ...}` text of a failed request, or the status line.
pub(crate) fn xhr_error_text(xhr: &XmlHttpRequest, status: u16) -> String {
    let body = xhr
        .response_text()
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str::<ErrorBody>(&t).ok())
        .map(|b| b.error);
    match (status, body) {
        (_, Some(e)) => e,
        (413, None) => "the upload is larger than the relay accepts".to_owned(),
        (401, None) => "you are not signed in".to_owned(),
        (s, None) => format!("the relay answered {s}"),
    }
}

/// Offers `blob` to the user as a file named `file_name` (object URL + `<a download>`).
pub fn save_blob(blob: &Blob, file_name: &str) -> Result<(), String> {
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(js_err)?;
    let doc = leptos::prelude::document();
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").map_err(js_err)?.unchecked_into();
    a.set_href(&url);
    a.set_download(file_name);
    a.set_attribute("hidden", "").map_err(js_err)?;
    if let Some(body) = doc.body() {
        body.append_child(&a).map_err(js_err)?;
        a.click();
        a.remove();
    }
    // Revoke after the click has been handled.
    let url2 = url.clone();
    leptos::prelude::set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url2);
        },
        std::time::Duration::from_secs(30),
    );
    Ok(())
}

/// Every entry of a directory (readEntries answers in batches until an empty one).
async fn read_dir(dir: &FileSystemDirectoryEntry) -> Result<Vec<FileSystemEntry>, String> {
    let reader: FileSystemDirectoryReader = dir.create_reader();
    let mut all = Vec::new();
    loop {
        let (tx, rx) = once::<Result<js_sys::Array, String>>();
        let t = tx.clone();
        let ok = Closure::<dyn FnMut(js_sys::Array)>::new(move |a: js_sys::Array| fire(&t, Ok(a)));
        let t = tx.clone();
        let err = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| fire(&t, Err(js_err(e))));
        reader
            .read_entries_with_callback_and_callback(
                ok.as_ref().unchecked_ref(),
                err.as_ref().unchecked_ref(),
            )
            .map_err(js_err)?;
        let batch = rx
            .await
            .unwrap_or_else(|_| Err("reading the folder stopped".to_owned()))?;
        drop((ok, err));
        if batch.length() == 0 {
            return Ok(all);
        }
        all.extend(batch.iter().map(|v| v.unchecked_into::<FileSystemEntry>()));
    }
}

/// The `File` of a file entry.
async fn entry_file(entry: &FileSystemFileEntry) -> Result<File, String> {
    let (tx, rx) = once::<Result<File, String>>();
    let t = tx.clone();
    let ok = Closure::<dyn FnMut(File)>::new(move |f: File| fire(&t, Ok(f)));
    let t = tx.clone();
    let err = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| fire(&t, Err(js_err(e))));
    entry
        .file_with_callback_and_callback(ok.as_ref().unchecked_ref(), err.as_ref().unchecked_ref());
    let file = rx
        .await
        .unwrap_or_else(|_| Err("reading a file stopped".to_owned()));
    drop((ok, err));
    file
}

/// Walks a dropped folder (iteratively; no recursion in async code) into relative paths.
async fn walk(root: FileSystemEntry) -> Result<Vec<(String, File)>, String> {
    let mut out = Vec::new();
    let mut stack = vec![(root.name(), root)];
    while let Some((path, entry)) = stack.pop() {
        if entry.is_directory() {
            let dir: FileSystemDirectoryEntry = entry.unchecked_into();
            for child in read_dir(&dir).await? {
                stack.push((format!("{path}/{}", child.name()), child));
            }
        } else if entry.is_file() {
            let file = entry_file(entry.unchecked_ref()).await?;
            out.push((path, file));
        }
        if out.len() > 20_000 {
            return Err("the folder holds more than 20000 files".to_owned());
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// What was dropped: one folder (walked) or one `.zip` file.
pub async fn from_drop(data: &DataTransfer) -> Result<Picked, String> {
    let items = data.items();
    // Entries must be taken synchronously, before the first await (the list is emptied after).
    let mut entries = Vec::new();
    for i in 0..items.length() {
        if let Some(item) = items.get(i)
            && item.kind() == "file"
            && let Ok(Some(entry)) = item.webkit_get_as_entry()
        {
            entries.push(entry);
        }
    }
    match entries.len() {
        0 => return Err("drop a job folder or a .zip file".to_owned()),
        1 => {}
        _ => return Err("drop one job folder or one .zip file at a time".to_owned()),
    }
    let entry = entries.remove(0);
    if entry.is_directory() {
        let files = walk(entry).await?;
        if files.is_empty() {
            return Err("the folder is empty".to_owned());
        }
        Ok(Picked::Folder(files))
    } else if entry.name().to_ascii_lowercase().ends_with(".zip") {
        Ok(Picked::Zip(entry_file(entry.unchecked_ref()).await?))
    } else {
        Err(format!(
            "{} is neither a folder nor a .zip file",
            entry.name()
        ))
    }
}

/// The files of an `<input type=file webkitdirectory>` with their relative paths, or the one zip
/// of a plain file input.
pub fn from_input(files: &web_sys::FileList, folder: bool) -> Result<Picked, String> {
    let list: Vec<File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
    if list.is_empty() {
        return Err("nothing was chosen".to_owned());
    }
    if folder {
        let with_paths = list
            .into_iter()
            .map(|f| {
                let path = js_sys::Reflect::get(&f, &"webkitRelativePath".into())
                    .ok()
                    .and_then(|p| p.as_string())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| f.name());
                (path, f)
            })
            .collect();
        return Ok(Picked::Folder(with_paths));
    }
    let file = list.into_iter().next().ok_or("nothing was chosen")?;
    if !file.name().to_ascii_lowercase().ends_with(".zip") {
        return Err(format!("{} is not a .zip file", file.name()));
    }
    Ok(Picked::Zip(file))
}

/// Copies `text` to the clipboard.
pub async fn copy_text(text: &str) -> Result<(), String> {
    let clipboard = leptos::prelude::window().navigator().clipboard();
    JsFuture::from(clipboard.write_text(text))
        .await
        .map(|_| ())
        .map_err(js_err)
}

/// 16 random bytes from `crypto.getRandomValues`.
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if let Ok(c) = leptos::prelude::window().crypto() {
        let _ = c.get_random_values_with_u8_array(&mut bytes);
    }
    bytes
}

fn session_storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().session_storage().ok().flatten()
}

/// sessionStorage `key`.
pub fn session_get(key: &str) -> Option<String> {
    session_storage()?.get_item(key).ok().flatten()
}

/// Sets sessionStorage `key`; false when the browser refused.
pub fn session_set(key: &str, value: &str) -> bool {
    session_storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

/// Removes sessionStorage `key`.
pub fn session_remove(key: &str) {
    if let Some(s) = session_storage() {
        let _ = s.remove_item(key);
    }
}

/// True while the tab is visible.
pub fn page_visible() -> bool {
    leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible
}
