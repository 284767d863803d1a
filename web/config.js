// Demo page settings for widget.js. An embedding site writes its own (or uses
// data- attributes on the script tag). scripts/serve_web.py --rasa-url
// appends a serverUrl override when serving this file.
window.CCAssistantConfig = {
  serverUrl: "http://localhost:5005",
  socketPath: "/socket.io",
  title: "サポートチャット",
  primaryColor: "#0b5cad",
};
