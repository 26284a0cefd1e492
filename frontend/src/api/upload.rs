//! The patch file upload (`POST /api/v1/patches/import`), with `XMLHttpRequest`: `fetch`
//! reports no upload progress.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The header that names an uploaded patch file (for the audit log).
const FILE_NAME_HEADER: &str = "X-SMS-File-Name";

/// `POST /api/v1/patches/import`: uploads a patch file, which the server verifies while it
/// arrives and keeps in its patch repository (admins only).
///
/// `on_progress` is called as the upload advances. This uses `XMLHttpRequest` because `fetch`
/// reports no upload progress. Dropping the future cancels the upload.
pub fn import_patch(
    file: File,
    on_progress: impl Fn(UploadProgress) + 'static,
) -> Fetch<PatchInfo> {
    fetch(async move {
        let upload =
            Upload::start(&file, on_progress).map_err(|e| ApiError::unprepared(js_text(&e)))?;
        let xhr = upload.finished().await;
        // Status 0: no answer at all (connection refused or reset, aborted, timed out).
        let status = xhr.status().unwrap_or(0);
        if status == 0 {
            return Err(ApiError::network("the upload did not reach the server"));
        }
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        if (200..300).contains(&status) {
            decode(&text).map_err(|e| ApiError::unexpected(status, e))
        } else {
            let reason = xhr.status_text().unwrap_or_default();
            Err(ApiError::from_answer(status, &reason, decode(&text).ok()))
        }
    })
}

/// One running upload. Its event handlers live as long as it does; dropping it before the end
/// aborts the request, so no handler runs after its closure is gone.
struct Upload {
    xhr: XmlHttpRequest,
    target: XmlHttpRequestUpload,
    ended: Rc<RefCell<Ending>>,
    _on_progress: Closure<dyn FnMut(ProgressEvent)>,
    _on_end: Closure<dyn FnMut()>,
}

/// Whether the request has ended, and who to wake when it does.
#[derive(Default)]
struct Ending {
    done: bool,
    waker: Option<Waker>,
}

impl Upload {
    fn start(
        file: &File,
        on_progress: impl Fn(UploadProgress) + 'static,
    ) -> Result<Self, wasm_bindgen::JsValue> {
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", "/api/v1/patches/import")?;
        xhr.set_request_header(CLIENT_HEADER, &client_name())?;
        xhr.set_request_header("Content-Type", "application/octet-stream")?;
        let name = file.name();
        if is_printable_ascii(&name) {
            xhr.set_request_header(FILE_NAME_HEADER, &name)?;
        }

        // Browsers report sizes as JavaScript numbers; a file's size is a whole number of bytes.
        let size = file.size() as u64;
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            let total = if event.length_computable() {
                event.total() as u64
            } else {
                size
            };
            on_progress(UploadProgress {
                sent: event.loaded() as u64,
                total,
            });
        });
        let target = xhr.upload()?;
        target.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));

        let ended = Rc::new(RefCell::new(Ending::default()));
        let on_end = Closure::<dyn FnMut()>::new({
            let ended = Rc::clone(&ended);
            move || {
                let waker = {
                    let mut ending = ended.borrow_mut();
                    ending.done = true;
                    ending.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        });
        // `loadend` comes after success, failure, abort and timeout alike.
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));

        let upload = Self {
            xhr,
            target,
            ended,
            _on_progress: on_progress,
            _on_end: on_end,
        };
        upload.xhr.send_with_opt_blob(Some(file))?;
        Ok(upload)
    }

    /// Waits for the request to end and hands back the finished request.
    async fn finished(self) -> XmlHttpRequest {
        Finished { upload: &self }.await;
        self.xhr.clone()
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        self.xhr.set_onloadend(None);
        self.target.set_onprogress(None);
        if !self.ended.borrow().done {
            // Aborting an upload that already ended does nothing worth reporting.
            let _ = self.xhr.abort();
        }
    }
}

/// The future of [`Upload::finished`]: ready once `loadend` has fired.
struct Finished<'a> {
    upload: &'a Upload,
}

impl Future for Finished<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut ending = self.upload.ended.borrow_mut();
        if ending.done {
            Poll::Ready(())
        } else {
            ending.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
