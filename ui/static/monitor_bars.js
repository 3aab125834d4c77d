// One monitor's 90 daily bars on its detail page: a Streamlit component (components v2) that
// ui/monitor_bars.py registers with the text of day_strip.js (the bars of the public status
// page's board) followed by this file's. The payload is one row: {name, detail, uptime, days,
// titles}. Only DOM calls and text properties: no markup is ever parsed.
export default function ({ data, parentElement }) {
  const payload = typeof data === "string" ? data : new TextDecoder().decode(data);
  let root = parentElement.querySelector(".uw-board");
  if (root === null) {
    root = element("div", "uw-board");
    parentElement.appendChild(root);
    tooltip(root);
  }
  if (root.uwPayload === payload) return;
  root.uwPayload = payload;
  const row = JSON.parse(payload);
  const [section, [uptime]] = dayGroup(root, "", [row]);
  uptime.textContent = row.uptime;
  root.uwHide();
  root.replaceChildren(section, root.uwTip);
}
