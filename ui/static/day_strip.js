// The 90 daily bars, drawn the same wherever they appear: the public status page's board
// (status_board.js) and a monitor's detail page (monitor_bars.js) are each this file's text
// followed by their own. ui/day_strip.py replaces __COLORS__ (the colour of each day's
// category, from readmodel/board_payload) with its JSON value.

const colors = __COLORS__;  // by category digit

const element = (tag, className, text) => {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
};

// The tooltip and the mark of the day under the pointer, one of each per root (the element the
// strips are drawn in, which positions the tooltip). A tap elsewhere hides the tooltip (a
// touch leaves no pointer behind to move away).
function tooltip(root) {
  root.uwTip = element("div", "uw-tip");
  root.uwMark = element("div", "uw-hl");
  root.uwTip.hidden = root.uwMark.hidden = true;
  root.uwTip.setAttribute("aria-hidden", "true");  // a strip's value text says the same
  root.addEventListener("pointerdown", (event) => {
    if (!event.target.classList.contains("uw-days")) root.uwHide();
  });
  root.uwHide = () => { root.uwTip.hidden = root.uwMark.hidden = true; };
  return root.uwTip;
}

// The tooltip of day `i` of a strip (0 = 90 days ago).
function show(root, strip, i) {
  const n = strip.dataset.days.length, tip = root.uwTip, mark = root.uwMark;
  i = Math.max(0, Math.min(n - 1, i));
  strip.uwDay = i;
  strip.setAttribute("aria-valuenow", i);
  strip.setAttribute("aria-valuetext", strip.uwTitles[i]);
  mark.style.left = (100 * i / n) + "%";
  mark.style.width = "calc(" + (100 / n) + "% - var(--uw-gap))";
  strip.appendChild(mark);
  tip.textContent = strip.uwTitles[i];
  tip.hidden = mark.hidden = false;
  const box = root.getBoundingClientRect(), day = strip.getBoundingClientRect();
  const x = day.left - box.left + day.width * (i + 0.5) / n;
  const left = Math.min(box.width - tip.offsetWidth, x - tip.offsetWidth / 2);
  tip.style.left = Math.max(0, left) + "px";
  tip.style.top = (day.bottom - box.top + 4) + "px";
}

const KEYS = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };

// One tab stop per group: its strips share it, and the up and down arrows move between them
// (on the same day), so the keyboard does not step through a hundred strips to pass the board.
function groupStrips(strip) {
  return [...strip.closest(".uw-group").querySelectorAll(".uw-days")];
}
function takeTabStop(strip) {
  for (const other of groupStrips(strip)) other.tabIndex = other === strip ? 0 : -1;
}

function strip(root, { name, days, titles }) {
  const made = element("div", "uw-days");
  // One band per run of days of the same colour (the mask cuts each into days).
  const width = 100 / days.length, bands = [];
  for (let i = 0, end; i < days.length; i = end) {
    for (end = i + 1; end < days.length && days[end] === days[i];) end++;
    bands.push(colors[days[i]] + " " + (i * width) + "% " + (end * width) + "%");
  }
  made.style.backgroundImage = "linear-gradient(to right," + bands.join(",") + ")";
  made.style.setProperty("--uw-n", days.length);
  made.dataset.days = days;
  made.uwTitles = titles;
  made.tabIndex = -1;  // the group's first strip gets its tab stop
  // A slider over the days for a screen reader: each day's text is its value.
  made.setAttribute("role", "slider");
  made.setAttribute("aria-label", name + ": uptime of each of the last " + days.length + " days");
  made.setAttribute("aria-valuemin", 0);
  made.setAttribute("aria-valuemax", days.length - 1);
  const dayAt = (event) => {
    const box = made.getBoundingClientRect();
    return Math.floor((event.clientX - box.left) / box.width * days.length);
  };
  made.addEventListener("pointermove", (event) => show(root, made, dayAt(event)));
  made.addEventListener("pointerdown", (event) => show(root, made, dayAt(event)));
  // Only a mouse leaving hides it: a finger lifted after a tap leaves the day shown.
  made.addEventListener("pointerleave", (event) => {
    if (event.pointerType === "mouse") root.uwHide();
  });
  made.addEventListener("focus", () => {
    takeTabStop(made);
    show(root, made, made.uwDay ?? days.length - 1);
  });
  made.addEventListener("blur", () => root.uwHide());
  made.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { root.uwHide(); return; }
    const move = { ArrowUp: -1, ArrowDown: 1 }[event.key];
    if (move !== undefined) {
      const strips = groupStrips(made), next = strips[strips.indexOf(made) + move];
      event.preventDefault();
      if (next !== undefined) {
        next.uwDay = made.uwDay;
        next.focus();
      }
      return;
    }
    const step = KEYS[event.key];
    if (step === undefined) return;
    event.preventDefault();
    show(root, made, (made.uwDay ?? days.length - 1) + step);
  });
  return made;
}

// One row: the name and its detail line, the strip of days, and the element for the uptime
// text (the caller fills it in). Returns [row, uptime element].
function dayRow(root, component) {
  const row = element("div", "uw-row");
  const info = element("div", "uw-info");
  const name = element("div", "uw-name", component.name);
  name.title = component.name;
  info.append(name, element("div", "uw-detail", component.detail));
  const uptime = element("div", "uw-uptime");
  row.append(info, strip(root, component), uptime);
  return [row, uptime];
}

// A group of rows: its heading (if named), the rows, the axis under them; the first strip
// holds the group's tab stop. Returns [section, uptime element of each row].
function dayGroup(root, name, rows) {
  const section = element("section", "uw-group");
  if (name) section.append(element("h3", "", name));
  const uptimes = [];
  for (const component of rows) {
    const [row, uptime] = dayRow(root, component);
    uptimes.push(uptime);
    section.append(row);
  }
  const first = section.querySelector(".uw-days");
  if (first !== null) first.tabIndex = 0;
  const axis = element("div", "uw-axis"), ends = element("div");
  ends.append(element("span", "", "90 days ago"), element("span", "", "today"));
  axis.append(ends);
  section.append(axis);
  return [section, uptimes];
}
