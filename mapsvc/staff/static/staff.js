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

// The column-mapping screen: once a file is chosen, the server reads its headers and first rows
// (with the reader the upload uses) and answers with a drop-down per header; the choices are
// written, as JSON, into the form's "columns" box, the one option the upload reads them from.
function enhanceMapping(form) {
  const slot = form.querySelector(".mapping-slot");
  const input = form.querySelector("input[type=file]");
  const columns = form.elements.namedItem("columns");
  const sheet = form.elements.namedItem("sheet");
  if (!slot || !input || !columns) return;
  let asked = 0;
  const writeColumns = () => {
    const chosen = {};
    for (const choice of slot.querySelectorAll("select.mapping-choice")) chosen[choice.dataset.header] = choice.value;
    columns.value = Object.keys(chosen).length ? JSON.stringify(chosen) : "";
  };
  const show = async () => {
    columns.value = "";
    if (!input.files?.length) { slot.replaceChildren(); return; }
    const ask = ++asked;
    slot.textContent = slot.dataset.readingText;
    const data = new FormData(form);
    data.delete("columns");
    let answer;
    try {
      answer = await fetch(slot.dataset.url, { method: "POST", body: data, credentials: "same-origin" });
    } catch {
      slot.replaceChildren(); // offline: the upload reads the headers itself
      return;
    }
    if (ask !== asked) return; // another file was chosen meanwhile
    if (answer.redirected || (answer.status !== 200 && answer.status !== 422)) { slot.replaceChildren(); return; }
    const fragment = new DOMParser().parseFromString(await answer.text(), "text/html");
    slot.replaceChildren(...fragment.body.childNodes);
    for (const choice of slot.querySelectorAll("select.mapping-choice")) choice.addEventListener("change", writeColumns);
    slot.querySelector("select.mapping-sheet")?.addEventListener("change", (event) => {
      if (sheet) sheet.value = event.target.value;
      show();
    });
    writeColumns();
  };
  const fresh = () => { if (sheet) sheet.value = ""; show(); }; // a new file: its first sheet
  input.addEventListener("change", fresh);
  form.addEventListener("drop", () => setTimeout(fresh)); // after the drop handler set the files
  for (const name of ["format", "encoding"]) form.elements.namedItem(name)?.addEventListener("change", show);
}

for (const form of document.querySelectorAll("form.upload")) enhanceMapping(form);
