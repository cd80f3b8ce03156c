// The staff pages work without this: it adds drag-and-drop and upload progress to the upload
// form, and keeps the page responsive while a large file is sent and checked.

function enhanceUpload(form) {
  const input = form.querySelector("input[type=file]");
  const bar = form.querySelector("progress");
  const button = form.querySelector("button[type=submit]");
  const status = form.querySelector(".upload-status");
  for (const type of ["dragenter", "dragover"]) {
    form.addEventListener(type, (event) => { event.preventDefault(); form.classList.add("dragging"); });
  }
  for (const type of ["dragleave", "drop"]) form.addEventListener(type, () => form.classList.remove("dragging"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer?.files?.length) input.files = event.dataTransfer.files;
  });
  form.addEventListener("submit", (event) => {
    const file = input.files?.[0];
    const max = Number(form.dataset.maxBytes);
    if (file && max && file.size > max) return; // the server says why, in the person's language
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    button.disabled = true;
    const data = new FormData(form);
    const job = crypto.randomUUID();
    data.set("job", job);
    let polling = null;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
    });
    // Sent: the server reads and checks it now. Its count of rows checked is polled and said
    // (the bar stays indeterminate: the number of rows is not known until the end).
    request.upload.addEventListener("load", () => {
      bar.removeAttribute("value");
      polling = setInterval(async () => {
        const answer = await fetch(`/staff/progress/${job}`, { credentials: "same-origin" });
        if (answer.ok) status.textContent = form.dataset.checkedText.replace("{n}", (await answer.json()).rows.toLocaleString());
      }, 700);
    });
    request.addEventListener("loadend", () => clearInterval(polling));
    request.addEventListener("load", () => {
      if (request.status < 300 || request.responseURL.endsWith("/staff/login")) {
        window.location.assign(request.responseURL);
        return;
      }
      // A rejected file: show the report page the server sent.
      const page = new DOMParser().parseFromString(request.responseText, "text/html");
      document.title = page.title;
      document.querySelector("main").replaceWith(page.querySelector("main"));
      window.scrollTo(0, 0);
    });
    request.addEventListener("error", () => { button.disabled = false; bar.hidden = true; });
    request.send(data);
  });
}

for (const form of document.querySelectorAll("form.upload")) enhanceUpload(form);
