// The public join page (booking/web/join_public.py): the number and the PIN keyed on the page
// are keyed into the IVR as a phone caller keys them, as RFC 4733 DTMF: 1 a little after the
// answer, then the number and #, the PIN and # in one go (a key interrupts the IVR's prompt). The
// IVR decides; this page only shows what the call does. window.dialconfCall is the call (tests).
(() => {
  const config = JSON.parse(document.getElementById("join-config").textContent);
  const t = config.texts;
  const $ = (id) => document.getElementById(id);
  const form = $("join-form");
  const state = $("call-state");
  const muteButton = $("mute");
  const hangupButton = $("hangup");
  let call = null;
  let muted = false;
  let focused = $("number");
  let timers = [];

  for (const id of ["number", "pin"]) $(id).addEventListener("focus", () => (focused = $(id)));

  const onlyDigits = (s) => /^[0-9]{1,}$/.test(s) && s.length <= config.maxDigits;

  const show = (text) => (state.textContent = text);

  document.querySelectorAll(".keypad button").forEach((button) =>
    button.addEventListener("click", () => {
      const key = button.dataset.key;
      if (call) call.sendDtmf(key); // in the call the keypad is the phone's (menu keys)
      else if (/[0-9]/.test(key) && focused.value.length < config.maxDigits) focused.value += key;
    })
  );
  $("backspace").addEventListener("click", () => (focused.value = focused.value.slice(0, -1)));

  const ended = (text) => {
    timers.forEach(clearTimeout);
    timers = [];
    call = null;
    show(text);
    muteButton.disabled = hangupButton.disabled = true;
    $("dial").disabled = false;
    $("mic-level").value = 0;
  };

  const keyIn = (number, pin) => {
    show(t.state_keying);
    const steps = ["1", number + "#" + pin + "#"]; // the IVR takes both in one go
    steps.forEach((keys, i) => {
      const at = config.firstKeyMs + i * config.keyGapMs;
      timers.push(setTimeout(() => call && call.sendDtmf(keys), at));
    });
    timers.push(setTimeout(() => call && show(t.state_in_call), config.firstKeyMs + steps.length * config.keyGapMs));
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (call) return;
    const number = $("number").value.trim();
    const pin = $("pin").value.trim();
    const error = $("form-error");
    if (!onlyDigits(number) || !onlyDigits(pin)) {
      error.textContent = t.needs_digits;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    $("dial").disabled = true;
    call = window.DialconfPhone.call({
      wsUrl: config.wsUrl,
      target: config.target,
      audioElement: $("far-end"),
      onState: (s, cause) => {
        if (s === "in-call") {
          muteButton.disabled = hangupButton.disabled = false;
          keyIn(number, pin);
        } else if (s === "ended") ended(t.state_ended);
        else if (s === "failed") ended(/media|user denied/i.test(cause || "") ? t.no_microphone : t.state_failed);
        else show(t["state_" + s] || s);
      },
    });
    window.dialconfCall = call;
    hangupButton.disabled = false;
  });

  muteButton.addEventListener("click", () => {
    if (!call) return;
    muted = !muted;
    call.mute(muted);
    muteButton.textContent = muted ? t.unmute : t.mute;
    muteButton.setAttribute("aria-pressed", String(muted));
  });
  hangupButton.addEventListener("click", () => call && call.hangup());

  setInterval(() => {
    if (call) $("mic-level").value = muted ? 0 : call.micLevel();
  }, 100);
})();
