export const formatTime = (iso) => `Server time: ${new Date(iso).toLocaleString()}`;
